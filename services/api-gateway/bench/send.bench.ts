/**
 * `npm run bench:send [seconds] [req/s] [accounts]`: latency of `POST /api/whatsapp/send` from
 * the HTTP accept to WhatsApp's server ack, under open-loop load (a fixed schedule: request i
 * leaves at t0 + i/rate whether or not earlier ones were answered, so a slow system cannot
 * slow the load down and hide its own latency).
 *
 * Every service runs as its own process from its build output, as `npm start` runs them:
 * redis-server, the Firestore emulator, the simulated WhatsApp network, one wa-gateway owning
 * all accounts, ingest, outbox-sender (OUTBOX_PACING=false) and the api-gateway. This process
 * only generates load and reads the results.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  OutboxQueue,
  waCommandsQueueName,
  waMessageIdFor,
  type SimulatorSentList,
} from '@wacrm/contracts';
import { freePort, startRedisServer, type RedisServerHandle } from '@wacrm/emulators';
import { collections, initFirebase, newAccountDoc } from '@wacrm/firestore';

// eslint-disable-next-line no-restricted-properties -- firebase-admin reads it from the environment
process.env.METADATA_SERVER_DETECTION = 'none';

const DURATION_S = Number(process.argv[2] ?? 60);
const RATE = Number(process.argv[3] ?? 100);
const ACCOUNTS = Number(process.argv[4] ?? 30);
const RECIPIENTS = 500;
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../..');

interface Proc {
  name: string;
  child: ChildProcess;
  output: () => string;
}
const procs: Proc[] = [];
let redis: RedisServerHandle | undefined;

function start(name: string, entry: string, env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, [join(ROOT, entry), ...args], {
    cwd: ROOT,
    // eslint-disable-next-line no-restricted-properties -- a child needs PATH to find its tools
    env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (c: Buffer) => (tail = (tail + c.toString('utf8')).slice(-8000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const proc = { name, child, output: () => tail };
  procs.push(proc);
  return proc;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crashed = procs.find((p) => p.child.exitCode !== null);
    if (crashed) throw new Error(`${crashed.name} exited:\n${crashed.output()}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const httpOk = (url: string) => async () => ((await fetch(url)).ok ? true : undefined);
const logged = (p: Proc, text: string) => () =>
  Promise.resolve(p.output().includes(text) ? true : undefined);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function row(name: string, values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(1).padStart(8);
  return `${name.padEnd(44)} n=${String(s.length).padStart(5)}  p50 ${f(percentile(s, 50))}  p95 ${f(percentile(s, 95))}  p99 ${f(percentile(s, 99))}  max ${f(s.at(-1) ?? Number.NaN)} ms`;
}

async function main(): Promise<void> {
  const setupStarted = Date.now();
  redis = await startRedisServer({});
  const fsPort = await freePort();
  const fsControl = await freePort();
  start('firestore', 'libs/emulators/dist/firestore-emulator.main.js', {}, [
    '--port',
    String(fsPort),
    '--control-port',
    String(fsControl),
  ]);
  await until('the Firestore emulator', httpOk(`http://127.0.0.1:${fsControl}/health`));
  const firestoreHost = `127.0.0.1:${fsPort}`;
  const base = {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: '{bench}',
    FIREBASE_PROJECT_ID: 'bench-send',
    FIRESTORE_EMULATOR_HOST: firestoreHost,
    LOG_LEVEL: 'warn',
  };
  const firebase = initFirebase({ projectId: 'bench-send', firestoreEmulatorHost: firestoreHost });
  const accounts = Array.from(
    { length: ACCOUNTS },
    (_, i) => `wa-bench${String(i).padStart(2, '0')}`,
  );
  const batch = firebase.db.batch();
  for (const id of accounts) {
    batch.set(collections(firebase.db).accounts().doc(id), newAccountDoc(id, null, new Date()));
  }
  await batch.commit();

  const simPort = await freePort();
  const simulatorUrl = `http://127.0.0.1:${simPort}`;
  start('wa-simulator', 'services/wa-gateway/dist/simulator/network.main.js', {
    WA_SIMULATOR_PORT: String(simPort),
    LOG_LEVEL: 'warn',
  });
  await until('the simulator', httpOk(`${simulatorUrl}/health`));
  const gwPort = await freePort();
  start('wa-gateway', 'services/wa-gateway/dist/main.js', {
    ...base,
    INSTANCE_ID: 'bench-gw',
    WA_DRIVER: 'simulator',
    WA_SIMULATOR_URL: simulatorUrl,
    AUTH_STATE_KEY: randomBytes(32).toString('base64'),
    WA_SPOOL_DIR: await mkdtemp(join(tmpdir(), 'bench-spool-')),
    WA_GATEWAY_HEALTH_PORT: String(gwPort),
    WA_DISCOVERY_INTERVAL_MS: '500',
  });
  const ingest = start('ingest', 'services/ingest/dist/main.js', { ...base, LOG_LEVEL: 'info' });
  const sender = start('outbox-sender', 'services/outbox-sender/dist/main.js', {
    ...base,
    LOG_LEVEL: 'info',
    OUTBOX_PACING: 'false',
  });
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  start('api-gateway', 'services/api-gateway/dist/main.js', {
    ...base,
    PORT: String(apiPort),
    ADMIN_TOKEN,
    // The bench is one client at 100 req/s; the per-client limit is not what is measured.
    RATE_LIMIT_MAX: '1000000',
  });
  await until('ingest', logged(ingest, 'ingest consuming'));
  await until('outbox-sender', logged(sender, 'outbox-sender started'));
  await until('the api-gateway', httpOk(`${apiUrl}/health`));

  // Pair every account on the simulated network, as a person scanning QR codes would.
  const paired = new Set<string>();
  await until(
    `${ACCOUNTS} accounts paired`,
    async () => {
      const view = (await (await fetch(`${simulatorUrl}/sockets`)).json()) as {
        accounts: Array<{ accountId: string; qr: string | null }>;
      };
      for (const a of view.accounts) {
        if (paired.has(a.accountId) || a.qr === null) continue;
        const r = await fetch(`${simulatorUrl}/accounts/${a.accountId}/scan`, { method: 'POST' });
        if (r.status === 202) paired.add(a.accountId);
      }
      return paired.size === ACCOUNTS ? true : undefined;
    },
    120_000,
  );
  await until(
    'every account connected',
    async () => {
      const snap = await collections(firebase.db).accounts().get();
      return snap.docs.filter((d) => d.data().status === 'connected').length === ACCOUNTS
        ? true
        : undefined;
    },
    120_000,
  );

  const send = (requestId: string, i: number) =>
    fetch(`${apiUrl}/api/whatsapp/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        accountId: accounts[i % ACCOUNTS],
        to: `+4072${String(i % RECIPIENTS).padStart(7, '0')}`,
        text: `Bună ziua! Confirmăm rezervarea nr. ${i}.`,
        requestId,
      }),
    });

  // Warm-up (JIT, connection pools, each account's command worker), not counted.
  const warm = await Promise.all(
    accounts.map(async (_, i) => {
      const res = await send(`bench-warm-${i}`, i);
      return { status: res.status, body: await res.text() };
    }),
  );
  const refused = warm.find((w) => w.status !== 202);
  if (refused) throw new Error(`warm-up send answered ${refused.status}: ${refused.body}`);
  await until('the warm-up sends', async () => {
    let n = 0;
    for (const id of accounts) {
      const list = (await (
        await fetch(`${simulatorUrl}/accounts/${id}/sent`)
      ).json()) as SimulatorSentList;
      n += list.messages.length;
    }
    return n >= ACCOUNTS ? true : undefined;
  });
  const setupMs = Date.now() - setupStarted;

  // ---- the open-loop run ----
  interface Sample {
    requestId: string;
    intended: number;
    acceptedWall?: number;
    acceptMs?: number;
    status?: number;
    error?: string;
  }
  const total = Math.round(DURATION_S * RATE);
  const samples: Sample[] = [];
  const inflight: Array<Promise<void>> = [];
  // performance.now() for durations; Date.now() to compare with the simulator's wall-clock stamps.
  const t0 = performance.now() + 50;
  const wall0 = Date.now() - performance.now();
  let next = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && t0 + (next * 1000) / RATE <= now) {
        const i = next++;
        const sample: Sample = { requestId: `bench-run-${i}`, intended: t0 + (i * 1000) / RATE };
        samples.push(sample);
        inflight.push(
          send(sample.requestId, i).then(
            async (res) => {
              const at = performance.now();
              sample.acceptedWall = wall0 + at;
              sample.acceptMs = at - sample.intended;
              sample.status = res.status;
              await res.text();
            },
            (error: unknown) => {
              sample.status = 0;
              const cause = (error as { cause?: { code?: string } }).cause;
              sample.error = cause?.code ?? String(error);
            },
          ),
        );
      }
      if (next >= total) {
        done();
        return;
      }
      setTimeout(tick, Math.max(0, t0 + (next * 1000) / RATE - performance.now()));
    };
    tick();
  });
  const loadEnded = performance.now();
  await Promise.all(inflight);

  // Every accepted send's server ack, stamped by the simulated WhatsApp server.
  const accepted = samples.filter((s) => s.status === 202);
  const ackAt = new Map<string, number>();
  await until(
    'every accepted send acked by the simulated WhatsApp server',
    async () => {
      for (const id of accounts) {
        const list = (await (
          await fetch(`${simulatorUrl}/accounts/${id}/sent`)
        ).json()) as SimulatorSentList;
        for (const m of list.messages) ackAt.set(m.messageId, Date.parse(m.receivedAt));
      }
      return accepted.every((s) => ackAt.has(waMessageIdFor(s.requestId))) ? true : undefined;
    },
    120_000,
  ).catch((error: unknown) => console.error(String(error)));

  const acceptToAck: number[] = [];
  const intendedToAck: number[] = [];
  let missing = 0;
  for (const s of accepted) {
    const ack = ackAt.get(waMessageIdFor(s.requestId));
    if (ack === undefined) {
      missing += 1;
      continue;
    }
    acceptToAck.push(ack - s.acceptedWall!);
    intendedToAck.push(ack - (wall0 + s.intended));
  }
  const otherCounts = new Map<string, number>();
  for (const x of samples.filter((x) => x.status !== 202)) {
    const key = x.status === 0 ? `no answer (${x.error ?? 'error'})` : `HTTP ${x.status}`;
    otherCounts.set(key, (otherCounts.get(key) ?? 0) + 1);
  }
  const others = [...otherCounts].map(([k, v]) => `${v} × ${k}`).join(', ');
  const acceptLatency = samples.flatMap((s) => (s.acceptMs !== undefined ? [s.acceptMs] : []));
  const achieved = (samples.length * 1000) / (loadEnded - t0);
  const sorted = [...acceptToAck].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);

  console.log('');
  console.log(
    `bench:send — ${samples.length} sends in ${DURATION_S} s open loop at ${RATE} req/s (achieved ${achieved.toFixed(1)}) over ${ACCOUNTS} accounts, ${RECIPIENTS} recipients, OUTBOX_PACING=false; setup ${(setupMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `accepted 202: ${accepted.length}, other answers: ${others || 'none'}, accepted but never acked: ${missing}`,
  );
  console.log(
    'How it is measured: the simulated WhatsApp server stamps each message as it receives it and acks it in the same tick',
  );
  console.log(
    '(the gateway gets the ack over loopback right after); accept = this client received the 202. Both are wall-clock ms',
  );
  console.log(
    'on one machine. An ack can come before the 202 reaches the client, so the lowest values may be <= 0.',
  );
  console.log(row('baseline: HTTP accept (scheduled -> 202)', acceptLatency));
  console.log(row('send: accept (202) -> WhatsApp server ack', acceptToAck));
  console.log(row('end to end: scheduled -> server ack', intendedToAck));
  for (const line of await stages(accepted, accounts)) console.log(line);
  const statuses = new Map<string, number>();
  for (const d of (await firebase.db.collection('outbox').select('status').get()).docs) {
    const status = String(d.get('status'));
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  console.log(
    `outbox documents by status after the run: ${[...statuses].map(([k, v]) => `${k} ${v}`).join(', ')}`,
  );
  console.log(`CPU seconds during setup + run, per process: ${await cpuSeconds()}`);
  console.log(`target p99 <= 50 ms: ${p99 <= 50 ? 'met' : 'NOT met'}`);
  console.log(
    `send: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms at ${achieved.toFixed(0)} req/s`,
  );
}

/**
 * Where an accepted send spends its time, from BullMQ's own job stamps (ms, Redis clock = this
 * machine's): the outbox job's add/start/finish and the account command job's add/start/finish.
 */
async function stages(
  accepted: Array<{ requestId: string; acceptedWall?: number }>,
  accounts: string[],
): Promise<string[]> {
  const connection = new Redis(redis!.url, { maxRetriesPerRequest: null });
  const prefix = '{bench}';
  const outbox = new Queue(OutboxQueue.name, { connection, prefix });
  const commands = new Map(
    accounts.map((id) => [id, new Queue(waCommandsQueueName(id), { connection, prefix })]),
  );
  const waits: Record<string, number[]> = {
    'accept -> outbox job added (route, before 202)': [],
    'outbox job: queued -> picked by outbox-sender': [],
    'outbox-sender: picked -> command enqueued': [],
    'outbox-sender: picked -> job finished': [],
    'command job: queued -> picked by wa-gateway': [],
    'wa-gateway: picked -> job done (send + ack)': [],
  };
  const step = 5;
  for (let i = 0; i < accepted.length; i += step) {
    const s = accepted[i]!;
    const o = await Job.fromId(outbox, s.requestId);
    const accountId = (o?.data as { accountId?: string } | undefined)?.accountId;
    const c = accountId
      ? await Job.fromId(commands.get(accountId)!, `send.${s.requestId}`)
      : undefined;
    if (!o?.processedOn || !o.finishedOn || !c?.processedOn || !c.finishedOn) continue;
    waits['accept -> outbox job added (route, before 202)']!.push(o.timestamp - s.acceptedWall!);
    waits['outbox job: queued -> picked by outbox-sender']!.push(o.processedOn - o.timestamp);
    waits['outbox-sender: picked -> command enqueued']!.push(c.timestamp - o.processedOn);
    waits['outbox-sender: picked -> job finished']!.push(o.finishedOn - o.processedOn);
    waits['command job: queued -> picked by wa-gateway']!.push(c.processedOn - c.timestamp);
    waits['wa-gateway: picked -> job done (send + ack)']!.push(c.finishedOn - c.processedOn);
  }
  await outbox.close();
  await Promise.all([...commands.values()].map((q) => q.close()));
  connection.disconnect();
  return [
    `stages (BullMQ job stamps, every ${step}th send):`,
    ...Object.entries(waits).map(([name, v]) => row(`  ${name}`, v)),
  ];
}

/** utime + stime of each child from /proc (Linux): where the machine's time went. */
async function cpuSeconds(): Promise<string> {
  const parts: string[] = [];
  for (const p of [
    { name: 'redis', pid: redis?.pid },
    ...procs.map((x) => ({ name: x.name, pid: x.child.pid })),
  ]) {
    try {
      const stat = await readFile(`/proc/${p.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      parts.push(`${p.name} ${(ticks / 100).toFixed(1)}`);
    } catch {
      parts.push(`${p.name} ?`);
    }
  }
  const self = process.cpuUsage();
  parts.push(`bench client ${((self.user + self.system) / 1e6).toFixed(1)}`);
  return parts.join(', ');
}

async function stopAll(): Promise<void> {
  for (const p of procs.reverse()) {
    if (p.child.exitCode === null) p.child.kill('SIGTERM');
  }
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((r) => {
          if (p.child.exitCode !== null) return r();
          const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
          p.child.once('exit', () => {
            clearTimeout(timer);
            r();
          });
        }),
    ),
  );
}

main()
  .then(
    () => stopAll(),
    async (error: unknown) => {
      console.error(error);
      await stopAll();
      process.exitCode = 1;
    },
  )
  .finally(() => redis?.stop())
  .finally(() => process.exit());
