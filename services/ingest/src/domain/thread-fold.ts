import type { MessageDoc, ThreadDoc } from '@wacrm/contracts';

export type ThreadCounters = Pick<
  ThreadDoc,
  | 'lastMessageAt'
  | 'lastMessageId'
  | 'lastMessageText'
  | 'lastMessageDirection'
  | 'unreadCount'
  | 'messageCount'
>;

/** Inbound live messages are unread; history and our own messages are not. */
export function countsAsUnread(message: MessageDoc): boolean {
  return message.direction === 'inbound' && message.source === 'live';
}

export function messagePreview(message: Pick<MessageDoc, 'body' | 'editedBody' | 'type'>): string {
  const text = message.editedBody ?? message.body ?? `[${message.type}]`;
  return text.length > 1000 ? `${text.slice(0, 999)}…` : text;
}

/** Newest by client time, then by id, so equal timestamps resolve the same in any arrival order. */
export function isAfterLast(message: MessageDoc, counters: ThreadCounters): boolean {
  if (counters.lastMessageAt === null) return true;
  const delta = message.tsClient.getTime() - counters.lastMessageAt.getTime();
  if (delta !== 0) return delta > 0;
  return message.waKey.id > (counters.lastMessageId ?? '');
}

/**
 * Counters after adding messages that did not exist before. Only sums and a max: the same set of
 * new messages gives the same counters whatever order it arrives in.
 */
export function foldNewMessages(
  counters: ThreadCounters,
  messages: readonly MessageDoc[],
): ThreadCounters {
  let next = { ...counters };
  for (const message of messages) {
    next.messageCount += 1;
    if (countsAsUnread(message)) next.unreadCount += 1;
    if (isAfterLast(message, next)) {
      next = {
        ...next,
        lastMessageAt: message.tsClient,
        lastMessageId: message.waKey.id,
        lastMessageText: messagePreview(message),
        lastMessageDirection: message.direction,
      };
    }
  }
  return next;
}

export function countersOf(thread: ThreadDoc): ThreadCounters {
  return {
    lastMessageAt: thread.lastMessageAt,
    lastMessageId: thread.lastMessageId ?? null,
    lastMessageText: thread.lastMessageText,
    lastMessageDirection: thread.lastMessageDirection,
    unreadCount: thread.unreadCount,
    messageCount: thread.messageCount,
  };
}
