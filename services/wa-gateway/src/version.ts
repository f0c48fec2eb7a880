/** Reported in logs, traces and /health. */
export const VERSION = '0.1.0';
export const SERVICE = 'wa-gateway';
