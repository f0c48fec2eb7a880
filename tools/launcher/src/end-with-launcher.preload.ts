import { Worker } from 'node:worker_threads';

// Loaded with `--import` into every Node process the launcher starts, which it spawns with an
// IPC channel. The launcher holds the other end; when it ends, however it ends (SIGKILL, the OOM
// killer, a closed terminal), the kernel closes the channel and 'disconnect' fires here. The
// process then stops as if it had been sent SIGTERM (its own graceful shutdown), and is killed
// after a grace period regardless. Nothing in the services has to know about it.

const GRACE_MS = 5_000;

if (process.connected) {
  process.once('disconnect', () => {
    // Nobody reads this process's pipes any more. Writes to them fail, and pino's synchronous
    // flush retries a failed write forever (sonic-boom), blocking the main thread: the deadline
    // is kept by a worker thread, which runs whatever the main thread is stuck in.
    new Worker(`setTimeout(() => process.kill(${process.pid}, 'SIGKILL'), ${GRACE_MS});`, {
      eval: true,
      stdout: true,
      stderr: true,
    }).unref();
    process.stdout.on('error', () => undefined);
    process.stderr.on('error', () => undefined);
    process.kill(process.pid, 'SIGTERM');
  });
  // The channel only watches the launcher; it must not keep a finished process alive.
  process.channel?.unref();
}
