import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { dirname } from 'node:path';
import { FirestoreServer, type FirestoreState } from '@firestore-emulator/server';
import { ServerCredentials, type Server as GrpcServer } from '@grpc/grpc-js';
import { captureSnapshot, restoreSnapshot } from './firestore-snapshot.codec.js';

export interface FirestoreEmulatorOptions {
  /** gRPC port; 0 or omitted picks a free one. */
  port?: number;
  /**
   * Interface for the gRPC server: 127.0.0.1 by default. Only a container (compose) sets
   * 0.0.0.0, where the network is the container's own.
   */
  bindHost?: string;
  /** JSON file the state is loaded from at start and saved to periodically and on stop. */
  snapshotPath?: string;
  /** How often a changed state is written to `snapshotPath`. Default 5000 ms. */
  snapshotIntervalMs?: number;
  /** Port for the control HTTP server on 127.0.0.1 (0 picks one); no control server when omitted. */
  controlPort?: number;
  /** Called when a periodic snapshot fails; defaults to a JSON line on stderr. */
  onSnapshotError?: (error: unknown) => void;
}

export interface FirestoreEmulatorHandle {
  /** `127.0.0.1:PORT`, the value for FIRESTORE_EMULATOR_HOST. */
  readonly host: string;
  readonly port: number;
  /** The in-memory state of the emulator. */
  readonly state: FirestoreState;
  /** Base URL of the control server (`POST /clear`, `POST /snapshot`, `GET /health`), if started. */
  readonly controlUrl?: string;
  /** Documents restored from the snapshot at start. */
  readonly restoredDocuments: number;
  /** Deletes every document of every project. */
  clear(): void;
  /** Writes the snapshot now (no-op without `snapshotPath`). */
  snapshot(): Promise<void>;
  /** Stops the servers and writes a final snapshot when `snapshotPath` is set. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/**
 * Runs `@firestore-emulator/server` in this process on 127.0.0.1, optionally persisting its
 * state to a JSON snapshot and exposing a small control HTTP server.
 */
export async function startFirestoreEmulator(
  options: FirestoreEmulatorOptions = {},
): Promise<FirestoreEmulatorHandle> {
  const emulator = new FirestoreServer();
  const { state } = emulator;
  const snapshotPath = options.snapshotPath;

  let restoredDocuments = 0;
  if (snapshotPath) restoredDocuments = await loadSnapshot(state, snapshotPath);

  let dirty = false;
  const markDirty = (): void => {
    dirty = true;
  };
  state.emitter.on('create-document', markDirty);
  state.emitter.on('update-document', markDirty);
  state.emitter.on('delete-document', markDirty);
  state.emitter.on('clear-all-projects', markDirty);

  // Snapshots are chained so the timer, /snapshot and stop() never write the temp file at once.
  let writing: Promise<void> = Promise.resolve();
  const snapshot = (force: boolean): Promise<void> => {
    const run = async (): Promise<void> => {
      if (!snapshotPath || (!force && !dirty)) return;
      dirty = false;
      try {
        await writeSnapshotAtomically(snapshotPath, JSON.stringify(captureSnapshot(state)));
      } catch (err) {
        dirty = true;
        throw err;
      }
    };
    const next = writing.then(run);
    writing = next.catch(() => undefined);
    return next;
  };

  // FirestoreServer.start() binds 0.0.0.0; bind its (private) gRPC server to loopback ourselves.
  const grpcServer = (emulator as unknown as { server: GrpcServer }).server;
  const port = await new Promise<number>((resolve, reject) => {
    grpcServer.bindAsync(
      `${options.bindHost ?? HOST}:${options.port ?? 0}`,
      ServerCredentials.createInsecure(),
      (err, bound) => (err ? reject(err) : resolve(bound)),
    );
  });

  const reportSnapshotError =
    options.onSnapshotError ??
    ((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(
        `${JSON.stringify({ level: 'error', msg: 'firestore snapshot failed', error: message })}\n`,
      );
    });
  const timer = snapshotPath
    ? setInterval(
        () => snapshot(false).catch(reportSnapshotError),
        options.snapshotIntervalMs ?? 5_000,
      )
    : undefined;
  timer?.unref();

  let control: HttpServer | undefined;
  let controlUrl: string | undefined;
  if (options.controlPort !== undefined) {
    try {
      control = await startControlServer(options.controlPort, {
        clear: () => state.clear(),
        snapshot: () => snapshot(true),
      });
    } catch (err) {
      clearInterval(timer);
      grpcServer.forceShutdown();
      throw err;
    }
    const address = control.address();
    controlUrl = `http://${HOST}:${typeof address === 'object' && address ? address.port : options.controlPort}`;
  }

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    clearInterval(timer);
    const controlClosed = control
      ? new Promise<void>((resolve) => control.close(() => resolve()))
      : undefined;
    // close() alone waits for keep-alive connections to go idle on their own.
    control?.closeAllConnections();
    await Promise.all([controlClosed, shutdownGrpc(grpcServer)]);
    await snapshot(true);
  };

  return {
    host: `${HOST}:${port}`,
    port,
    state,
    restoredDocuments,
    ...(controlUrl === undefined ? {} : { controlUrl }),
    clear: () => state.clear(),
    snapshot: () => snapshot(true),
    stop: () => (stopping ??= stop()),
  };
}

async function loadSnapshot(state: FirestoreState, path: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  try {
    return restoreSnapshot(state, JSON.parse(text));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`Cannot load Firestore snapshot ${path}: ${message}`, { cause: err });
  }
}

async function writeSnapshotAtomically(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  // rename() is atomic on POSIX, so a crash leaves either the old or the new file, never half of one.
  await writeFile(tmp, content, { encoding: 'utf8', flush: true });
  await rename(tmp, path);
}

function shutdownGrpc(server: GrpcServer): Promise<void> {
  return new Promise((resolve) => {
    // Open Listen streams would hold tryShutdown forever; cut them after a grace period.
    const timer = setTimeout(() => server.forceShutdown(), 1_000);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

interface ControlActions {
  clear(): void;
  snapshot(): Promise<void>;
}

async function startControlServer(port: number, actions: ControlActions): Promise<HttpServer> {
  const server = createServer((req, res) => {
    handleControl(req, res, actions).catch((err: unknown) => {
      sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: HOST, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  actions: ControlActions,
): Promise<void> {
  const route = `${req.method ?? ''} ${new URL(req.url ?? '/', `http://${HOST}`).pathname}`;
  req.resume();
  switch (route) {
    case 'GET /health':
      return sendJson(res, 200, { status: 'ok' });
    case 'POST /clear':
      actions.clear();
      return sendJson(res, 200, { cleared: true });
    case 'POST /snapshot':
      await actions.snapshot();
      return sendJson(res, 200, { snapshot: true });
    default:
      return sendJson(res, 404, { error: `No route ${route}` });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
