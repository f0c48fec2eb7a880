import type { IngestHistoryJob, WaRawMessage } from '@wacrm/contracts';

export interface HistoryFixture {
  jobs: IngestHistoryJob[];
  messages: number;
}

/**
 * A history sync of `total` messages over `accounts` × `threadsPerAccount` chats, as wa-gateway
 * emits it: per account, chunks of whole chats (about `chunkMessages` messages each), accounts
 * interleaved the way several sockets sync at once.
 */
export function historyFixture(options: {
  total: number;
  accounts: number;
  threadsPerAccount: number;
  chunkMessages: number;
}): HistoryFixture {
  const threads = options.accounts * options.threadsPerAccount;
  const perAccount: IngestHistoryJob[][] = [];
  let n = 0;
  for (let a = 0; a < options.accounts; a++) {
    const accountId = `bench-${String(a).padStart(2, '0')}`;
    const chats: Array<{ jid: string; messages: WaRawMessage[] }> = [];
    for (let t = 0; t < options.threadsPerAccount; t++) {
      const index = a * options.threadsPerAccount + t;
      const count =
        Math.floor((options.total * (index + 1)) / threads) -
        Math.floor((options.total * index) / threads);
      const jid = `4073${String(a).padStart(2, '0')}${String(t).padStart(5, '0')}@s.whatsapp.net`;
      const messages: WaRawMessage[] = [];
      for (let i = 0; i < count; i++, n++) {
        const fromMe = i % 3 === 2;
        messages.push({
          key: { id: `HB${String(n).padStart(7, '0')}`, remoteJid: jid, fromMe, participant: null },
          messageTimestamp: 1_760_000_000 + i * 60,
          pushName: fromMe ? null : `Client ${t}`,
          message: { conversation: `Mesaj ${i} din conversația ${t}: rezervare pentru sâmbătă?` },
          status: fromMe ? 4 : null,
          messageStubType: null,
          messageStubParameters: null,
          undecryptable: false,
        });
      }
      chats.push({ jid, messages });
    }
    const jobs: IngestHistoryJob[] = [];
    let current: typeof chats = [];
    let size = 0;
    const flush = () => {
      if (current.length === 0) return;
      jobs.push({
        accountId,
        instanceId: 'gw-bench',
        fencingToken: 1,
        observedAt: new Date().toISOString(),
        source: 'history',
        chunkId: `${accountId}-chunk-${jobs.length}`,
        syncType: 0,
        progress: null,
        isLatest: false,
        chats: current.map((c, i) => ({
          id: c.jid,
          name: `Client ${i}`,
          unreadCount: 0,
          conversationTimestamp: null,
        })),
        contacts: [],
        messages: current.flatMap((c) => c.messages),
      });
      current = [];
      size = 0;
    };
    for (const chat of chats) {
      if (size + chat.messages.length > options.chunkMessages) flush();
      current.push(chat);
      size += chat.messages.length;
    }
    flush();
    jobs.forEach((job, i) => (job.progress = Math.round(((i + 1) / jobs.length) * 100)));
    perAccount.push(jobs);
  }
  const jobs: IngestHistoryJob[] = [];
  for (let round = 0; perAccount.some((list) => round < list.length); round++) {
    for (const list of perAccount) if (round < list.length) jobs.push(list[round]!);
  }
  return { jobs, messages: n };
}
