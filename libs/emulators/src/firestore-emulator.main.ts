import { parseArgs } from 'node:util';
import { startFirestoreEmulator } from './firestore-emulator.server.js';

// Runs the Firestore emulator as its own process for the launcher:
//   node dist/firestore-emulator.main.js --port 8181 --snapshot .data/firestore.json --control-port 8182

function log(
  level: 'info' | 'warn' | 'error',
  msg: string,
  extra: Record<string, unknown> = {},
): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), msg, ...extra });
  (level === 'info' ? process.stdout : process.stderr).write(`${line}\n`);
}

function toInt(
  raw: string | undefined,
  name: string,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  }
  return n;
}

try {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      snapshot: { type: 'string' },
      'snapshot-interval-ms': { type: 'string' },
      'control-port': { type: 'string' },
    },
    strict: true,
  });
  const handle = await startFirestoreEmulator({
    port: toInt(values.port, 'port', 0, 65_535),
    bindHost: values.host,
    snapshotPath: values.snapshot,
    snapshotIntervalMs: toInt(
      values['snapshot-interval-ms'],
      'snapshot-interval-ms',
      1,
      2 ** 31 - 1,
    ),
    controlPort: toInt(values['control-port'], 'control-port', 0, 65_535),
    onSnapshotError: (err) => log('error', 'firestore snapshot failed', { error: String(err) }),
    onLog: log,
    // Memory now holds writes that are not on disk: start again from disk (the launcher or
    // compose restarts this process) rather than serve them.
    onLogFailure: (err) => {
      log('error', 'firestore log write failed; exiting', { error: String(err) });
      process.exit(1);
    },
  });
  log('info', 'firestore emulator ready', {
    host: handle.host,
    controlUrl: handle.controlUrl,
    snapshot: values.snapshot,
    restoredDocuments: handle.restoredDocuments,
    replayedLogRecords: handle.replayedLogRecords,
  });

  let stopping = false;
  const shutdown = (reason: string): void => {
    // Repeated signals (Ctrl-C reaches the whole process group) must not cut the final snapshot short.
    if (stopping) return;
    stopping = true;
    log('info', 'firestore emulator stopping', { reason });
    handle.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log('error', 'firestore emulator stop failed', { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // With an IPC channel the parent's death (even SIGKILL) disconnects it; do not outlive it.
  if (process.connected) process.on('disconnect', () => shutdown('parent disconnected'));
} catch (err) {
  log('error', 'firestore emulator failed to start', {
    error: err instanceof Error ? err.message : String(err),
  });
  process.exit(1);
}
