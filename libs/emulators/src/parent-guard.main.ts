import { spawn } from 'node:child_process';
import { constants } from 'node:os';

// Runs a program that is not Node (redis-server) so that it cannot outlive the process that
// started this guard:
//   node dist/parent-guard.main.js <command> [args…]      (spawned with an IPC channel)
// The parent holds the other end of the IPC channel. When the parent ends, however it ends
// (SIGKILL, the OOM killer), the kernel closes the channel, 'disconnect' fires here and the
// command gets SIGTERM, then SIGKILL after a grace period. Signals sent to the guard are passed
// on, and the guard exits the way the command did.

const GRACE_MS = 10_000;
const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  process.stderr.write('usage: parent-guard.main.js <command> [args…]\n');
  process.exit(64);
}

const child = spawn(command, args, { stdio: 'inherit' });
const forwarded = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
for (const signal of forwarded) process.on(signal, () => child.kill(signal));

if (process.connected) {
  process.once('disconnect', () => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), GRACE_MS).unref();
  });
  // The channel only watches the parent; it must not keep the guard alive after the command.
  process.channel?.unref();
}

child.once('error', (err) => {
  process.stderr.write(`parent-guard: cannot run ${command}: ${err.message}\n`);
  process.exit(127);
});
child.once('exit', (code, signal) => {
  if (signal === null) process.exit(code ?? 1);
  process.exit(128 + (constants.signals[signal] ?? 0));
});
