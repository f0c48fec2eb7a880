/** A thread is one account talking to one client: a stable id from both. */
export function threadIdFor(accountId: string, clientJid: string): string {
  return `${accountId}__${clientJid}`.replace(/\//g, '_');
}
