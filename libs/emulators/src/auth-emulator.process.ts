import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasExited, OutputTail, terminate, trackChild } from './child-process.util.js';
import { freePort } from './free-port.util.js';
import { waitFor } from './wait-for.util.js';

export interface AuthEmulatorOptions {
  /** Port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /** Project the emulator serves; a `demo-` id keeps firebase-tools fully offline. Default `demo-wacrm`. */
  projectId?: string;
  /** Directory for the generated firebase.json, logs and firebase-tools state; a temporary one (removed on stop) when omitted. */
  workDir?: string;
  /** How long to wait for the emulator to answer HTTP. Default 90 000 ms (it needs ~15 s of CPU to boot). */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 10 000 ms. */
  stopTimeoutMs?: number;
}

export interface AuthEmulatorHandle {
  /** `127.0.0.1:PORT`, the value for FIREBASE_AUTH_EMULATOR_HOST. */
  readonly host: string;
  readonly port: number;
  readonly projectId: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/**
 * Starts the Firebase Auth emulator from firebase-tools (`firebase emulators:start --only auth`)
 * as a child process with every port it opens on 127.0.0.1, and resolves once it answers HTTP.
 */
export async function startAuthEmulator(
  options: AuthEmulatorOptions = {},
): Promise<AuthEmulatorHandle> {
  const projectId = options.projectId ?? 'demo-wacrm';
  const ownsWorkDir = options.workDir === undefined;
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'wacrm-auth-')));
  await mkdir(workDir, { recursive: true });
  const [port, hubPort, loggingPort] = await Promise.all([
    options.port ?? freePort(),
    freePort(),
    freePort(),
  ]);

  // Unset hosts default to "localhost" (possibly ::1) and fixed ports (4400/4500); pin them all.
  const firebaseJson = {
    emulators: {
      auth: { host: HOST, port },
      hub: { host: HOST, port: hubPort },
      logging: { host: HOST, port: loggingPort },
      ui: { enabled: false },
      singleProjectMode: true,
    },
  };
  await writeFile(join(workDir, 'firebase.json'), `${JSON.stringify(firebaseJson, null, 2)}\n`);

  const firebaseBin = createRequire(import.meta.url).resolve('firebase-tools/lib/bin/firebase.js');
  // eslint-disable-next-line no-restricted-properties -- child process inherits the environment
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FIREBASE_CLI_EXPERIMENTS;
  Object.assign(env, {
    METADATA_SERVER_DETECTION: 'none',
    // CI skips the MOTD fetch; NO_UPDATE_NOTIFIER skips the npm registry check.
    CI: 'true',
    NO_UPDATE_NOTIFIER: '1',
    // The hub writes a per-project locator file into TMPDIR and firebase-tools keeps settings
    // under XDG_CONFIG_HOME; private dirs let parallel emulators and the user's setup coexist.
    TMPDIR: workDir,
    XDG_CONFIG_HOME: join(workDir, 'config'),
  });

  const child: ChildProcess = spawn(
    process.execPath,
    [firebaseBin, 'emulators:start', '--only', 'auth', '--project', projectId],
    { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  trackChild(child);
  const tail = new OutputTail();
  tail.attach(child.stdout);
  tail.attach(child.stderr);
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));

  const cleanup = async (): Promise<void> => {
    await terminate(child, options.stopTimeoutMs ?? 10_000);
    if (ownsWorkDir) await rm(workDir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      async () => {
        const res = await fetch(`http://${HOST}:${port}/`, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        return res.ok;
      },
      {
        timeoutMs: options.startTimeoutMs ?? 90_000,
        intervalMs: 250,
        what: `the Auth emulator on ${HOST}:${port}`,
        abortReason: () => {
          if (spawnError) return `Could not spawn firebase-tools: ${spawnError.message}`;
          if (hasExited(child))
            return `firebase-tools exited early (code ${child.exitCode}, signal ${child.signalCode})`;
          return undefined;
        },
        details: () => tail.toString(),
      },
    );
  } catch (err) {
    await cleanup();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    host: `${HOST}:${port}`,
    port,
    projectId,
    pid: child.pid ?? -1,
    stop: () => (stopping ??= cleanup()),
  };
}
