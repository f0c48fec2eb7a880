import { createServer, type Server } from 'node:http';
import type { Firestore } from 'firebase-admin/firestore';
import type { AccountDoc, AccountStatus, MessageDoc, ThreadDoc } from '@wacrm/contracts';
import { collections, newAccountDoc } from '@wacrm/firestore';

export function accountDoc(
  name: string,
  status: AccountStatus,
  extra: Partial<AccountDoc> = {},
): AccountDoc {
  return {
    ...newAccountDoc(name, null, new Date('2025-01-01T10:00:00Z')),
    status,
    ...extra,
  };
}

export function threadDoc(
  accountId: string,
  n: number,
  lastMessageAt: Date | null,
  phone?: string,
): ThreadDoc {
  return {
    accountId,
    clientJid: `4070000${String(n).padStart(4, '0')}@s.whatsapp.net`,
    phoneE164: phone ?? `+4070000${String(n).padStart(4, '0')}`,
    displayName: `Client ${n}`,
    isGroup: false,
    lastMessageAt,
    lastMessageText: `hello ${n}`,
    lastMessageDirection: 'inbound',
    unreadCount: 0,
    messageCount: 1,
    createdAt: new Date('2025-01-01T00:00:00Z'),
    updatedAt: new Date('2025-01-01T00:00:00Z'),
  };
}

export function messageDoc(
  accountId: string,
  threadId: string,
  id: string,
  tsClient: Date,
): MessageDoc {
  return {
    accountId,
    threadId,
    direction: 'inbound',
    body: `message ${id}`,
    type: 'text',
    media: null,
    tsClient,
    tsServer: null,
    status: 'received',
    waKey: { id, remoteJid: '40700000001@s.whatsapp.net', fromMe: false, participant: null },
    requestId: null,
    source: 'live',
    participant: null,
    senderName: null,
    quotedMessageId: null,
    deleted: false,
    editedBody: null,
    reactions: {},
    location: null,
    createdAt: tsClient,
    updatedAt: tsClient,
  };
}

/** Writes many documents in batches of 400. */
export async function writeAll(
  db: Firestore,
  writes: Array<[string, Record<string, unknown>]>,
): Promise<void> {
  for (let i = 0; i < writes.length; i += 400) {
    const batch = db.batch();
    for (const [path, data] of writes.slice(i, i + 400)) batch.set(db.doc(path), data);
    await batch.commit();
  }
}

export async function seedAccount(db: Firestore, id: string, doc: AccountDoc): Promise<void> {
  await collections(db).accounts().doc(id).set(doc);
}

/**
 * A recorder in place of the WhatsApp network emulator's control API, for tests of the HTTP layer
 * alone (validation, forwarding, access): it answers 202 with SimulatorAccepted, as the emulator
 * does, and records what it received. The routes against the real emulator: e2e/acceptance.
 */
export async function startSimulatorStandIn(): Promise<{
  url: string;
  received: Array<{ path: string; body: unknown }>;
  close(): Promise<void>;
}> {
  const received: Array<{ path: string; body: unknown }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      const path = req.url ?? '';
      received.push({ path, body });
      const match = /^\/accounts\/([^/]+)\/(scan|inbound|history|disconnect)$/.exec(path);
      res.setHeader('content-type', 'application/json');
      if (req.method !== 'POST' || match === null) {
        res.statusCode = 404;
        res.end(JSON.stringify({ detail: 'no such simulator route' }));
        return;
      }
      res.statusCode = 202;
      res.end(
        JSON.stringify({ accountId: match[1], status: `${match[2]} accepted`, messageIds: [] }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Issue 19: a template (a quick reply) and a scheduled send that already went out, for route
 * tables that call the template and cancel routes per account (the cancel answers 409).
 */
export async function seedSchedulingFixtures(
  db: Firestore,
  accountId: string,
  ids: { templateId: string; requestId: string; threadId: string; to: string },
): Promise<void> {
  const now = new Date();
  await db.collection('messageTemplates').doc(ids.templateId).set({
    accountId,
    name: 'Salut',
    body: 'Bună, {{nume_copil}}!',
    reminderKind: null,
    shortcut: 'salut',
    mediaId: null,
    isArchived: false,
    createdBy: 'seed',
    createdAt: now,
    updatedAt: now,
  });
  await collections(db)
    .outbox()
    .doc(ids.requestId)
    .set({
      requestId: ids.requestId,
      accountId,
      threadId: ids.threadId,
      to: ids.to,
      body: 'Programat',
      media: null,
      replyTo: null,
      waMessageId: `WACRM${ids.requestId.replace(/[^A-Za-z0-9]/g, '').toUpperCase()}`,
      status: 'sent',
      attempts: 1,
      lastError: null,
      bodyHash: 'seed',
      createdBy: 'seed',
      createdAt: now,
      updatedAt: now,
      sentAt: now,
      sendAt: now,
    });
}
