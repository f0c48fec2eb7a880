import { parseArgs } from 'node:util';
import { startFirestoreEmulator } from './firestore-emulator.server.js';

// Runs the Firestore emulator as its own process for the launcher:
//   node dist/firestore-emulator.main.js --port 8181 --snapshot .data/firestore.json --control-port 8182

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    snapshot: { type: 'string' },
    'snapshot-interval-ms': { type: 'string' },
    'control-port': { type: 'string' },
  },
  strict: true,
});

function log(level: 'info' | 'error', msg: string, extra: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), msg, ...extra });
  (level === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
}

function toPort(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new Error(`--${name} must be a port number, got "${raw}"`);
  return n;
}

try {
  const interval = values['snapshot-interval-ms'];
  const handle = await startFirestoreEmulator({
    port: toPort(values.port, 'port'),
    snapshotPath: values.snapshot,
    snapshotIntervalMs: interval === undefined ? undefined : Number(interval),
    controlPort: toPort(values['control-port'], 'control-port'),
    onSnapshotError: (err) => log('error', 'firestore snapshot failed', { error: String(err) }),
  });
  log('info', 'firestore emulator ready', {
    host: handle.host,
    controlUrl: handle.controlUrl,
    snapshot: values.snapshot,
    restoredDocuments: handle.restoredDocuments,
  });

  const shutdown = (signal: NodeJS.Signals): void => {
    log('info', 'firestore emulator stopping', { signal });
    handle.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log('error', 'firestore emulator stop failed', { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} catch (err) {
  log('error', 'firestore emulator failed to start', { error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
