import { stat, unlink } from 'node:fs/promises';
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type {
  BatchGetDocumentsRequest,
  CommitRequest,
  RunQueryRequest,
} from '@firestore-emulator/proto/dist/google/firestore/v1/firestore.js';
import { FirestoreServer, type FirestoreState } from '@firestore-emulator/server';
import './firestore-own-names.js';
import './firestore-array-contains.js';
import { configureUnpackedFields, type UnpackedBudget } from './firestore-packed-fields.js';
import {
  encodeBatchGetResponse,
  encodeRunQueryResponse,
  timestampOf,
} from './firestore-read-encoder.js';
import {
  ServerCredentials,
  status,
  type sendUnaryData,
  type Server as GrpcServer,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedHandleCall,
} from '@grpc/grpc-js';
import {
  applyLogRecord,
  countDocuments,
  encodeClearRecord,
  encodeCommitRecord,
} from './firestore-snapshot.codec.js';
import { readSnapshotFile, writeSnapshotFile } from './firestore-snapshot.file.js';
import { FirestoreWriteLog, listLogFiles, replayLogFile } from './firestore-write-log.js';

export interface FirestoreEmulatorOptions {
  /** gRPC port; 0 or omitted picks a free one. */
  port?: number;
  /**
   * Interface for the gRPC server: 127.0.0.1 by default. Only a container (compose) sets
   * 0.0.0.0, where the network is the container's own.
   */
  bindHost?: string;
  /**
   * JSON file the state is loaded from at start and saved to periodically and on stop. With it,
   * every commit is also appended to a write-ahead log (`<snapshotPath>.wal.<generation>`) and
   * flushed to disk before the reply, so an acknowledged write survives SIGKILL.
   */
  snapshotPath?: string;
  /**
   * Log each commit before replying (default true when `snapshotPath` is set). Off, only the
   * snapshots persist and writes since the last one are lost on a crash; benchmarks compare both.
   */
  writeAheadLog?: boolean;
  /**
   * How often a changed state may be compacted: the log folded into `snapshotPath`. Default 5000
   * ms. With the write-ahead log, a tick compacts only once the log has grown to a quarter of the
   * snapshot's size (the log holds every acknowledged write either way; compaction bounds the
   * replay at start). A snapshot rewrites the whole database, so compacting on every tick cost a
   * busy install a core: 77 s of CPU per snapshot at 100,000 messages with their search index.
   */
  snapshotIntervalMs?: number;
  /** Port for the control HTTP server on 127.0.0.1 (0 picks one); no control server when omitted. */
  controlPort?: number;
  /** Called when a periodic snapshot fails; defaults to a JSON line on stderr. */
  onSnapshotError?: (error: unknown) => void;
  /** Notable events, such as a torn log tail cut at start; defaults to JSON lines on stderr. */
  onLog?: (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
  /**
   * The log could not be written. The gRPC server has already stopped: memory holds writes that
   * are not on disk and must not be served. Defaults to a JSON line on stderr; a process of its
   * own should exit so its supervisor starts it again from disk.
   */
  onLogFailure?: (error: unknown) => void;
  /**
   * Documents whose fields stay unpacked as objects (firestore-packed-fields.ts); the rest are
   * unpacked from their bytes on each read. One budget per process: the last store started sets
   * it. Default 32 MiB packed / 50,000 documents. The test suite's store keeps a few dozen, so
   * every test reads through the packed path too.
   */
  unpackedBudget?: UnpackedBudget;
}

export interface FirestoreEmulatorHandle {
  /** `127.0.0.1:PORT`, the value for FIRESTORE_EMULATOR_HOST. */
  readonly host: string;
  readonly port: number;
  /** The in-memory state of the emulator. */
  readonly state: FirestoreState;
  /** Base URL of the control server (`POST /clear`, `POST /snapshot`, `GET /health`), if started. */
  readonly controlUrl?: string;
  /** Documents there after loading the snapshot and replaying the log at start. */
  readonly restoredDocuments: number;
  /** Log records replayed at start. */
  readonly replayedLogRecords: number;
  /** Deletes every document of every project; resolves once that is logged. */
  clear(): Promise<void>;
  /** Writes the snapshot now, folding the log into it (no-op without `snapshotPath`). */
  snapshot(): Promise<void>;
  /** Stops the servers and writes a final snapshot when `snapshotPath` is set. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** A tick compacts once the log is this share of the snapshot's size (see snapshotIntervalMs). */
const COMPACT_AT_LOG_SHARE = 0.25;

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/** Firestore's limit on one API request (a commit of up to 500 writes): 10 MiB. */
const FIRESTORE_MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/**
 * The library's gRPC server takes grpc-js's default of 4 MiB per message; a larger commit was
 * never answered (the client waited forever). Firestore takes requests up to 10 MiB, so the
 * server does too (with room for the gRPC framing). grpc-js reads its options per call.
 */
function acceptFirestoreSizedRequests(emulator: FirestoreServer): void {
  // `server` is private in the library's types; the grpc-js Server behind it keeps `options`.
  const { server } = emulator as unknown as { server: { options?: Record<string, unknown> } };
  if (server.options === undefined) throw new Error('grpc-js Server without options');
  server.options['grpc.max_receive_message_length'] = FIRESTORE_MAX_REQUEST_BYTES + 64 * 1024;
}

/**
 * Runs `@firestore-emulator/server` in this process on 127.0.0.1, optionally persisting its
 * state to a JSON snapshot and exposing a small control HTTP server.
 */
export async function startFirestoreEmulator(
  options: FirestoreEmulatorOptions = {},
): Promise<FirestoreEmulatorHandle> {
  if (options.unpackedBudget !== undefined) configureUnpackedFields(options.unpackedBudget);
  const emulator = new FirestoreServer();
  acceptFirestoreSizedRequests(emulator);
  const { state } = emulator;
  const snapshotPath = options.snapshotPath;
  const report = options.onLog ?? logToStderr;

  let restoredDocuments = 0;
  let replayedLogRecords = 0;
  let log: FirestoreWriteLog | undefined;
  if (snapshotPath) {
    const loaded = await readSnapshotFile(state, snapshotPath);
    restoredDocuments = loaded.documents;
    if (options.writeAheadLog !== false) {
      const recovered = await recoverLog(state, snapshotPath, loaded.logGeneration, report);
      replayedLogRecords = recovered.records;
      if (recovered.records > 0) restoredDocuments = countDocuments(state);
      log = await FirestoreWriteLog.create(snapshotPath, recovered.nextGeneration);
    }
  }

  let dirty = replayedLogRecords > 0;
  const markDirty = (): void => {
    dirty = true;
  };
  state.emitter.on('create-document', markDirty);
  state.emitter.on('update-document', markDirty);
  state.emitter.on('delete-document', markDirty);
  state.emitter.on('clear-all-projects', markDirty);

  // Snapshots are chained so the timer, /snapshot and stop() never write the temp file at once.
  // Each starts a new log generation first: what was applied before it is in the snapshot, what
  // comes after is in the new log, and the older logs can go once the snapshot is renamed.
  let writing: Promise<void> = Promise.resolve();
  let snapshotBytes = snapshotPath ? await fileSize(snapshotPath) : 0;
  // Logs replayed at start stay on disk until a compaction: the first tick folds them in.
  let replayedLogsPending = replayedLogRecords > 0;
  const snapshot = (force: boolean): Promise<void> => {
    const run = async (): Promise<void> => {
      if (!snapshotPath || (!force && !dirty)) return;
      const logIsSmall = log !== undefined && log.bytes < snapshotBytes * COMPACT_AT_LOG_SHARE;
      if (!force && !replayedLogsPending && logIsSmall) return;
      dirty = false;
      try {
        const generation = log ? await log.rotate() : 0;
        await writeSnapshotFile(state, snapshotPath, generation);
        snapshotBytes = await fileSize(snapshotPath);
        replayedLogsPending = false;
        await log?.removeBefore(generation);
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
  let logFailed = false;
  const clear = async (): Promise<void> => {
    state.clear();
    await log?.append(encodeClearRecord());
  };
  const counts: FirestoreOperationCounts = {
    commits: 0,
    writes: 0,
    documentReads: 0,
    queries: 0,
    writesByCollection: {},
  };
  answerReadsFromState(grpcServer, state);
  countOperations(grpcServer, counts);
  if (log) {
    installWriteAheadLog(grpcServer, state, log, (err) => {
      if (logFailed) return;
      logFailed = true;
      grpcServer.forceShutdown();
      (
        options.onLogFailure ??
        ((e) => report('error', 'firestore log write failed', { error: String(e) }))
      )(err);
    });
  }
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
      report('error', 'firestore snapshot failed', { error: message });
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
        clear,
        snapshot: () => snapshot(true),
        stats: () => ({ ...counts, writesByCollection: { ...counts.writesByCollection } }),
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
    try {
      if (!logFailed) await snapshot(true);
    } finally {
      await log?.close();
    }
  };

  return {
    host: `${HOST}:${port}`,
    port,
    state,
    restoredDocuments,
    replayedLogRecords,
    ...(controlUrl === undefined ? {} : { controlUrl }),
    clear,
    snapshot: () => snapshot(true),
    stop: () => (stopping ??= stop()),
  };
}

/**
 * Replays the logs the snapshot does not contain (generation >= `fromGeneration`) and deletes
 * older ones, left when a crash came between a snapshot's rename and their removal. A torn tail
 * of the last log (the record being written when the process died, never acknowledged) is cut.
 */
async function recoverLog(
  state: FirestoreState,
  snapshotPath: string,
  fromGeneration: number,
  report: NonNullable<FirestoreEmulatorOptions['onLog']>,
): Promise<{ records: number; nextGeneration: number }> {
  const files = [];
  for (const file of await listLogFiles(snapshotPath)) {
    if (file.generation >= fromGeneration) files.push(file);
    else await unlink(file.path);
  }
  let records = 0;
  let nextGeneration = Math.max(fromGeneration, 1);
  for (const [i, file] of files.entries()) {
    const replayed = await replayLogFile(
      file.path,
      (payload) => applyLogRecord(state, payload),
      i === files.length - 1,
    );
    records += replayed.records;
    if (replayed.tornTail) {
      report('warn', 'firestore log: torn tail cut', { ...replayed.tornTail });
    }
    nextGeneration = file.generation + 1;
  }
  return { records, nextGeneration };
}

const FIRESTORE_SERVICE = '/google.firestore.v1.Firestore';

interface GrpcHandler {
  func: UntypedHandleCall;
  serialize: (value: unknown) => Buffer;
  deserialize: (bytes: Buffer) => unknown;
  type: string;
}

/** Wraps one of the emulator's gRPC methods. */
function replaceHandler(
  server: GrpcServer,
  method: string,
  wrap: (func: GrpcHandler['func']) => GrpcHandler['func'],
  wrapSerialize: (serialize: GrpcHandler['serialize']) => GrpcHandler['serialize'] = (s) => s,
): void {
  // grpc-js keeps registered methods in a private map; register/unregister are public.
  const handlers = (server as unknown as { handlers: Map<string, GrpcHandler> }).handlers;
  const path = `${FIRESTORE_SERVICE}/${method}`;
  const handler = handlers.get(path);
  if (!handler) throw new Error(`The Firestore emulator has no gRPC method ${path}`);
  server.unregister(path);
  server.register(
    path,
    wrap(handler.func),
    wrapSerialize(handler.serialize),
    handler.deserialize,
    handler.type,
  );
}

/**
 * Reads answered from the stored documents straight into wire bytes (firestore-read-encoder.ts),
 * with Firestore's projections: `query.select(...)` and `getAll(..., { fieldMask })` return only
 * the fields named, where the library sends whole documents (searching reads its index this way:
 * a thread's index document holds every prefix of its name and phone). A read that opens a
 * transaction, or that names a nested path, is answered by the library as before.
 */
function answerReadsFromState(server: GrpcServer, state: FirestoreState): void {
  replaceHandler(
    server,
    'RunQuery',
    (func) => {
      const library = func as (call: unknown) => void;
      return ((call: ServerWritableStream<RunQueryRequest, Buffer>) => {
        const r = call.request;
        const query = r.structured_query;
        const names = query.has_select ? query.select.fields.map((f) => f.field_path) : undefined;
        if (r.consistency_selector === 'new_transaction' || !topLevel(names)) {
          library(call);
          return;
        }
        const readTime = timestampOf(new Date());
        const docs = state.v1Query(r.parent, query);
        const projection = names === undefined || names.length === 0 ? undefined : names;
        const transaction = r.transaction;
        if (docs.length === 0) {
          call.write(encodeRunQueryResponse({ readTime, transaction, done: true }));
        }
        docs.forEach((document, i) => {
          call.write(
            encodeRunQueryResponse({
              document,
              names: projection,
              readTime,
              transaction,
              done: i === docs.length - 1,
            }),
          );
        });
        call.end();
      }) as GrpcHandler['func'];
    },
    passEncoded,
  );
  replaceHandler(
    server,
    'BatchGetDocuments',
    (func) => {
      const library = func as (call: unknown) => void;
      return ((call: ServerWritableStream<BatchGetDocumentsRequest, Buffer>) => {
        const r = call.request;
        const names = r.has_mask ? r.mask.field_paths : undefined;
        if (r.has_new_transaction || !topLevel(names)) {
          library(call);
          return;
        }
        const readTime = timestampOf(new Date());
        const projection = names === undefined || names.length === 0 ? undefined : names;
        for (const path of r.documents) {
          call.write(encodeBatchGetResponse(path, state.getDocument(path), readTime, projection));
        }
        call.end();
      }) as GrpcHandler['func'];
    },
    passEncoded,
  );
}

/** No field names, or top-level ones only (a dotted or quoted path is the library's). */
function topLevel(names: readonly string[] | undefined): boolean {
  return names === undefined || !names.some((n) => n.includes('.') || n.includes('`'));
}

/** A method's serialiser that sends bytes already encoded as they are. */
function passEncoded(serialize: GrpcHandler['serialize']): GrpcHandler['serialize'] {
  return (value) => (Buffer.isBuffer(value) ? value : serialize(value));
}

interface WriteLike {
  update?: { name?: string };
  delete?: string;
}

/** `threads/messages` for `projects/p/databases/d/documents/threads/t1/messages/m1`. */
function collectionOf(name: string): string {
  const path = name.split('/documents/')[1] ?? name;
  return path
    .split('/')
    .filter((_, i) => i % 2 === 0)
    .join('/');
}

/** Counts commits, their writes, documents read and queries as they arrive. */
function countOperations(server: GrpcServer, counts: FirestoreOperationCounts): void {
  const counted =
    (count: (request: Record<string, unknown>) => void) =>
    (func: GrpcHandler['func']): GrpcHandler['func'] =>
      ((call: { request?: Record<string, unknown> }, ...rest: unknown[]) => {
        if (call.request !== undefined) count(call.request);
        return (func as (...args: unknown[]) => unknown)(call, ...rest);
      }) as GrpcHandler['func'];
  replaceHandler(
    server,
    'Commit',
    counted((r) => {
      counts.commits += 1;
      const writes = Array.isArray(r.writes) ? (r.writes as WriteLike[]) : [];
      counts.writes += writes.length;
      for (const write of writes) {
        const name = collectionOf(write.update?.name ?? write.delete ?? '');
        counts.writesByCollection[name] = (counts.writesByCollection[name] ?? 0) + 1;
      }
    }),
  );
  replaceHandler(
    server,
    'BatchGetDocuments',
    counted((r) => {
      counts.documentReads += Array.isArray(r.documents) ? r.documents.length : 0;
    }),
  );
  replaceHandler(
    server,
    'RunQuery',
    counted(() => {
      counts.queries += 1;
    }),
  );
}

/**
 * Commits are the emulator's only write path (BatchWrite, Write and the document CRUD methods
 * are unimplemented). Each commit is applied by the emulator as before; its reply is held until
 * the documents it touched are logged and flushed. Reads wait until everything applied before
 * them is on disk, so no client sees a write that a crash could still take back.
 */
function installWriteAheadLog(
  server: GrpcServer,
  state: FirestoreState,
  log: FirestoreWriteLog,
  onFailure: (err: unknown) => void,
): void {
  const replace = (method: string, wrap: (func: GrpcHandler['func']) => GrpcHandler['func']) =>
    replaceHandler(server, method, wrap);

  replace('Commit', (commit) => {
    const apply = commit as (
      call: ServerUnaryCall<CommitRequest, unknown>,
      callback: sendUnaryData<unknown>,
    ) => void;
    return ((call: ServerUnaryCall<CommitRequest, unknown>, callback: sendUnaryData<unknown>) => {
      apply(call, (err, value) => {
        // Logged even when the commit failed part-way: the emulator applies writes one by one.
        const paths = new Set(
          call.request.writes.map((write) => (write.has_delete ? write.delete : write.update.name)),
        );
        log.append(encodeCommitRecord(state, paths)).then(
          () => callback(err, value),
          (logErr: unknown) => {
            callback({ code: status.UNAVAILABLE, details: 'the write-ahead log failed' }, null);
            onFailure(logErr);
          },
        );
      });
    }) as GrpcHandler['func'];
  });

  for (const method of ['BatchGetDocuments', 'RunQuery', 'RunAggregationQuery']) {
    replace(method, (read) => {
      const serve = read as (call: unknown) => void;
      return ((call: unknown) => {
        log.durable().then(
          () => serve(call),
          () => serve(call),
        );
      }) as GrpcHandler['func'];
    });
  }
}

function logToStderr(level: string, msg: string, fields: Record<string, unknown>): void {
  process.stderr.write(
    `${JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields })}\n`,
  );
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
  clear(): Promise<void>;
  snapshot(): Promise<void>;
  stats(): FirestoreOperationCounts;
}

/** What clients asked of the emulator since it started (`GET /stats`): benchmarks count per send. */
export interface FirestoreOperationCounts {
  commits: number;
  /** Document writes inside those commits. */
  writes: number;
  /** Documents asked for by BatchGetDocuments (every `get` and `getAll`). */
  documentReads: number;
  queries: number;
  /** Document writes by collection path (`threads/messages` for a message). */
  writesByCollection: Record<string, number>;
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
      await actions.clear();
      return sendJson(res, 200, { cleared: true });
    case 'POST /snapshot':
      await actions.snapshot();
      return sendJson(res, 200, { snapshot: true });
    case 'GET /stats':
      return sendJson(res, 200, actions.stats());
    default:
      return sendJson(res, 404, { error: `No route ${route}` });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
