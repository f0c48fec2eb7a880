import type { IngestMessagesJob, WaRawMessage } from '@wacrm/contracts';

/** JSON fixtures in the form the wa-gateway produces (proto.WebMessageInfo.toObject). */
export function raw(
  id: string,
  remoteJid: string,
  message: Record<string, unknown> | null,
  options: Partial<Omit<WaRawMessage, 'key'>> & { fromMe?: boolean; participant?: string } = {},
): WaRawMessage {
  const { fromMe = false, participant = null, ...rest } = options;
  return {
    key: { id, remoteJid, fromMe, participant },
    messageTimestamp: 1_767_780_000,
    pushName: fromMe ? null : 'Ana',
    message,
    status: fromMe ? 2 : null,
    messageStubType: null,
    messageStubParameters: null,
    undecryptable: false,
    ...rest,
  };
}

export function messagesJob(
  accountId: string,
  messages: WaRawMessage[],
  fencingToken = 1,
): IngestMessagesJob {
  return {
    accountId,
    instanceId: 'gw-1',
    fencingToken,
    observedAt: new Date().toISOString(),
    source: 'live',
    messages,
  };
}

export const gateway = (accountId: string, fencingToken = 1) => ({
  accountId,
  instanceId: `gw-${fencingToken}`,
  fencingToken,
  observedAt: new Date().toISOString(),
});
