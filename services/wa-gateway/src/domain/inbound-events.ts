import { createHash } from 'node:crypto';
import {
  isJidGroup,
  isLidUser,
  isPnUser,
  jidNormalizedUser,
  normalizeMessageContent,
  proto,
  type WAMessage,
} from '@whiskeysockets/baileys';
import {
  WaChatProtocolType,
  type AccountStateJob,
  type IdentityMappingsJob,
  type IngestHistoryJob,
  type IngestMessagesJob,
  type MessageUpdatesJob,
  type ReceiptsJob,
  type WaRawMessage,
} from '@wacrm/contracts';
import { jobIdFrom } from '@wacrm/queue';
import type { WaEvents } from '../drivers/driver.port.js';

type Gateway = 'accountId' | 'instanceId' | 'fencingToken' | 'observedAt';

/** One job to put on wa-inbound, before the gateway facts (instance, token, time) are added. */
export type InboundJob =
  | { name: 'ingest-messages'; jobId: string; payload: Omit<IngestMessagesJob, Gateway> }
  | { name: 'ingest-history'; jobId: string; payload: Omit<IngestHistoryJob, Gateway> }
  | { name: 'update-messages'; jobId: string; payload: Omit<MessageUpdatesJob, Gateway> }
  | { name: 'apply-receipts'; jobId: string; payload: Omit<ReceiptsJob, Gateway> }
  | { name: 'map-identities'; jobId: string; payload: Omit<IdentityMappingsJob, Gateway> }
  | { name: 'update-account'; jobId: string; payload: Omit<AccountStateJob, Gateway> };

const CIPHERTEXT = proto.WebMessageInfo.StubType.CIPHERTEXT;
/** Messages per ingest-history job: well under the contract's limit, a few MB of JSON at most. */
export const HISTORY_JOB_MESSAGES = 5_000;

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function normaliseJid(jid: string | null | undefined): string | null {
  if (!jid) return null;
  return isJidGroup(jid) ? jid : jidNormalizedUser(jid) || jid;
}

/** A Baileys message in the JSON form ingest reads: longs as numbers, bytes as base64. */
export function toRawMessage(message: WAMessage): WaRawMessage {
  const json = proto.WebMessageInfo.toObject(proto.WebMessageInfo.fromObject(message), {
    longs: Number,
    enums: Number,
    bytes: String,
    defaults: false,
  }) as {
    key?: { id?: string; remoteJid?: string; fromMe?: boolean; participant?: string };
    messageTimestamp?: number;
    pushName?: string;
    message?: Record<string, unknown>;
    status?: number;
    messageStubType?: number;
    messageStubParameters?: string[];
  };
  const stub = json.messageStubType ?? null;
  return {
    key: {
      id: json.key?.id ?? '',
      remoteJid: normaliseJid(json.key?.remoteJid) ?? '',
      fromMe: json.key?.fromMe === true,
      participant: normaliseJid(json.key?.participant),
    },
    messageTimestamp: Math.max(0, Math.floor(toNumber(json.messageTimestamp) ?? 0)),
    pushName: json.pushName ?? null,
    message: json.message ?? null,
    status: json.status ?? null,
    messageStubType: stub,
    messageStubParameters: json.messageStubParameters ?? null,
    undecryptable: stub === CIPHERTEXT,
    ...keyAltOf(message),
  };
}

/** Baileys' alternate ids live beside the proto key and do not survive the round trip above. */
function keyAltOf(message: WAMessage): Pick<WaRawMessage, 'keyAlt'> {
  const { remoteJidAlt, participantAlt, addressingMode } = message.key;
  if (!remoteJidAlt && !participantAlt && !addressingMode) return {};
  return {
    keyAlt: {
      remoteJidAlt: normaliseJid(remoteJidAlt),
      participantAlt: normaliseJid(participantAlt),
      addressingMode: addressingMode === 'lid' || addressingMode === 'pn' ? addressingMode : null,
    },
  };
}

function digest(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 24);
}

const CHAT_PROTOCOL_TYPES: ReadonlySet<number> = new Set(Object.values(WaChatProtocolType));

/**
 * A protocol message Baileys acts on itself (a history sync notification, app-state sync keys,
 * a peer-data request): the account's phone talking to its linked devices, not a chat message.
 * Only revokes and edits go on to ingest; the others can carry key material.
 */
function isDeviceProtocolMessage(message: WAMessage): boolean {
  const protocol = normalizeMessageContent(message.message)?.protocolMessage;
  if (!protocol) return false;
  // proto3 enum default: an absent type reads as 0 (REVOKE), as Baileys reads it.
  return !CHAT_PROTOCOL_TYPES.has(protocol.type ?? 0);
}

const messageKeyId = (m: WaRawMessage) => `${m.key.remoteJid}|${m.key.fromMe ? 1 : 0}|${m.key.id}`;

/**
 * Turns one batch of socket events into wa-inbound jobs with deterministic ids, so the same
 * event delivered twice (redelivery, spool replay, a new owner) is the same job.
 */
export function jobsForEvents(accountId: string, events: WaEvents): InboundJob[] {
  const jobs: InboundJob[] = [];
  const upsert = events['messages.upsert'];
  if (upsert) {
    const messages = upsert.messages.filter((m) => !isDeviceProtocolMessage(m));
    // The phone number behind a LID sender travels only beside the message (sender_pn): record
    // it before the message, so the thread is the contact's phone number, not an opaque LID.
    const alternates = messages.flatMap(lidPnOf);
    if (alternates.length > 0) jobs.push(mappingJob(accountId, alternates));
    for (const message of messages) {
      const raw = toRawMessage(message);
      if (raw.key.id === '' || raw.key.remoteJid === '') continue;
      jobs.push({
        name: 'ingest-messages',
        // The placeholder of an undecryptable message and its decrypted resend share one key:
        // two jobs, so ingest sees the resend and turns the placeholder into the message.
        jobId: jobIdFrom(
          accountId,
          'msg',
          digest(raw.undecryptable ? [messageKeyId(raw), 'ciphertext'] : [messageKeyId(raw)]),
        ),
        payload: { source: 'live', messages: [raw] },
      });
    }
  }
  const history = events['messaging-history.set'];
  if (history) {
    const messages = history.messages.map(toRawMessage).filter((m) => m.key.id !== '');
    const syncType = history.syncType ?? null;
    const chunkId = `${syncType ?? 'x'}-${digest([
      ...messages.map(messageKeyId),
      ...history.chats.map((c) => c.id ?? ''),
    ])}`;
    const source =
      syncType === proto.HistorySync.HistorySyncType.ON_DEMAND ? 'backfill' : 'history';
    // Baileys merges history sets while it buffers events: one set can exceed what one job may
    // carry, so it is split into parts (chats and contacts with the first, progress with the last).
    const parts = Math.max(1, Math.ceil(messages.length / HISTORY_JOB_MESSAGES));
    for (let part = 0; part < parts; part++) {
      const first = part === 0;
      const last = part === parts - 1;
      const partId = parts === 1 ? chunkId : `${chunkId}.${part + 1}of${parts}`;
      jobs.push({
        name: 'ingest-history',
        jobId: jobIdFrom(accountId, 'history', partId),
        payload: {
          source,
          chunkId: partId,
          syncType,
          progress: last ? (history.progress ?? null) : null,
          isLatest: last && history.isLatest === true,
          chats: first
            ? history.chats.map((c) => ({
                id: c.id ?? '',
                name: c.name ?? null,
                unreadCount: toNumber(c.unreadCount),
                conversationTimestamp: toNumber(c.conversationTimestamp),
              }))
            : [],
          contacts: first
            ? history.contacts.map((c) => ({
                id: c.id,
                name: c.name ?? null,
                notify: c.notify ?? null,
                lid: c.lid ?? null,
                phoneNumber: c.phoneNumber ?? null,
              }))
            : [],
          messages: messages.slice(part * HISTORY_JOB_MESSAGES, (part + 1) * HISTORY_JOB_MESSAGES),
        },
      });
    }
    if (history.lidPnMappings && history.lidPnMappings.length > 0) {
      jobs.push(mappingJob(accountId, history.lidPnMappings));
    }
  }
  const updates = events['messages.update'];
  if (updates && updates.length > 0) {
    const list = updates.map((u) => ({
      key: {
        id: u.key.id ?? '',
        remoteJid: normaliseJid(u.key.remoteJid) ?? '',
        fromMe: u.key.fromMe === true,
        participant: normaliseJid(u.key.participant),
      },
      status: toNumber(u.update.status),
      message: u.update.message
        ? (proto.Message.toObject(proto.Message.fromObject(u.update.message), {
            longs: Number,
            enums: Number,
            bytes: String,
            defaults: false,
          }) as Record<string, unknown>)
        : null,
    }));
    jobs.push({
      name: 'update-messages',
      jobId: jobIdFrom(accountId, 'upd', digest(list.map((u) => JSON.stringify(u)))),
      payload: { updates: list },
    });
  }
  const receipts = events['message-receipt.update'];
  if (receipts && receipts.length > 0) {
    const list = receipts.map((r) => ({
      key: {
        id: r.key.id ?? '',
        remoteJid: normaliseJid(r.key.remoteJid) ?? '',
        fromMe: r.key.fromMe === true,
        participant: normaliseJid(r.key.participant),
      },
      userJid: r.receipt.userJid ?? '',
      receiptTimestamp: toNumber(r.receipt.receiptTimestamp),
      readTimestamp: toNumber(r.receipt.readTimestamp),
    }));
    jobs.push({
      name: 'apply-receipts',
      jobId: jobIdFrom(accountId, 'rcpt', digest(list.map((r) => JSON.stringify(r)))),
      payload: { receipts: list },
    });
  }
  const mapping = events['lid-mapping.update'];
  if (mapping) jobs.push(mappingJob(accountId, [mapping]));
  return jobs;
}

/**
 * The LID↔phone pair a message carries: Baileys puts the sender's other address in
 * `key.remoteJidAlt` (chats) or `key.participantAlt` (groups); the proto round trip drops both.
 */
function lidPnOf(message: WAMessage): Array<{ lid: string; pn: string }> {
  const { remoteJid, remoteJidAlt, participant, participantAlt } = message.key;
  const pairs: Array<{ lid: string; pn: string }> = [];
  for (const [address, alternate] of [
    [remoteJid, remoteJidAlt],
    [participant, participantAlt],
  ] as const) {
    if (!address || !alternate) continue;
    const a = jidNormalizedUser(address);
    const b = jidNormalizedUser(alternate);
    if (isLidUser(a) && isPnUser(b)) pairs.push({ lid: a, pn: b });
    else if (isLidUser(b) && isPnUser(a)) pairs.push({ lid: b, pn: a });
  }
  return pairs;
}

export function mappingJob(
  accountId: string,
  mappings: Array<{ lid: string; pn: string }>,
): InboundJob {
  const list = mappings.map((m) => ({ lid: m.lid, pn: m.pn }));
  return {
    name: 'map-identities',
    jobId: jobIdFrom(accountId, 'lid', digest(list.map((m) => `${m.lid}=${m.pn}`))),
    payload: { mappings: list },
  };
}
