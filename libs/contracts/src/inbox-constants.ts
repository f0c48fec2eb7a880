/**
 * The operator inbox's fixed orders (issue 20), zod-free so the web bundle imports them as they
 * are (`@wacrm/contracts/inbox`); inbox.schema.ts builds its schemas on them.
 */

/** A thread's sales stage, in this order (the web shows them left to right). */
export const THREAD_STAGES = ['lead', 'quoted', 'confirmed', 'done', 'lost'] as const;
export type ThreadStageName = (typeof THREAD_STAGES)[number];

/** When WhatsApp learns an operator read a chat (blue ticks for the client). */
export const READ_RECEIPT_MODES = ['off', 'on_open', 'on_reply'] as const;

/** A client waits for a reply after this many minutes unless the account says otherwise. */
export const DEFAULT_WAITING_AFTER_MINUTES = 15;
