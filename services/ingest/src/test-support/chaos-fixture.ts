import type { IngestMessagesJob, WaRawMessage } from '@wacrm/contracts';
import { raw } from './wa-fixtures.js';

export interface ThreadTruth {
  accountId: string;
  jid: string;
  ids: Set<string>;
  unread: number;
  lastAt: number;
  lastId: string;
  lastText: string;
}

/** A deterministic pseudo-random stream, so a failing chaos run can be replayed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `total` live messages over `accounts` × `threadsPerAccount` conversations, cut into jobs of
 * 1–`maxPerJob` messages, shuffled (out-of-order delivery), with some jobs sent twice.
 */
export function chaosJobs(options: {
  total: number;
  accounts: number;
  threadsPerAccount: number;
  maxPerJob: number;
  duplicateRatio: number;
  seed: number;
}): { jobs: IngestMessagesJob[]; truth: Map<string, ThreadTruth> } {
  const random = rng(options.seed);
  const truth = new Map<string, ThreadTruth>();
  const perAccount = new Map<string, WaRawMessage[]>();
  for (let n = 0; n < options.total; n++) {
    const a = n % options.accounts;
    const accountId = `chaos-${String(a).padStart(2, '0')}`;
    const t = Math.floor(random() * options.threadsPerAccount);
    const jid = `4072${String(a).padStart(2, '0')}${String(t).padStart(5, '0')}@s.whatsapp.net`;
    const id = `CH${String(n).padStart(6, '0')}`;
    const ts = 1_767_000_000 + Math.floor(random() * 100_000);
    const fromMe = random() < 0.3;
    const body = `mesaj ${n}`;
    const message = raw(id, jid, { conversation: body }, { messageTimestamp: ts, fromMe });
    const list = perAccount.get(accountId) ?? [];
    list.push(message);
    perAccount.set(accountId, list);
    const key = `${accountId}|${jid}`;
    const th = truth.get(key) ?? {
      accountId,
      jid,
      ids: new Set<string>(),
      unread: 0,
      lastAt: -1,
      lastId: '',
      lastText: '',
    };
    th.ids.add(id);
    if (!fromMe) th.unread += 1;
    if (ts > th.lastAt || (ts === th.lastAt && id > th.lastId)) {
      th.lastAt = ts;
      th.lastId = id;
      th.lastText = body;
    }
    truth.set(key, th);
  }
  const jobs: IngestMessagesJob[] = [];
  for (const [accountId, list] of perAccount) {
    for (let i = 0; i < list.length;) {
      const size = 1 + Math.floor(random() * options.maxPerJob);
      jobs.push({
        accountId,
        instanceId: 'gw-chaos',
        fencingToken: 1,
        observedAt: new Date().toISOString(),
        source: 'live',
        messages: list.slice(i, i + size),
      });
      i += size;
    }
  }
  const duplicates = jobs.filter(() => random() < options.duplicateRatio);
  const all = [...jobs, ...duplicates];
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return { jobs: all, truth };
}
