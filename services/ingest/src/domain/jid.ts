import { parsePhoneNumberFromString } from 'libphonenumber-js';

/** A JID split into its user and server, with the device/agent suffix dropped. */
export interface ParsedJid {
  user: string;
  server: string;
}

export function parseJid(jid: string): ParsedJid | null {
  const at = jid.lastIndexOf('@');
  if (at <= 0) return null;
  const server = jid.slice(at + 1);
  // "4071…:12@s.whatsapp.net" is device 12 of the same user; "user_1@…" an agent suffix.
  const user = jid.slice(0, at).split(':')[0]!.split('_')[0]!;
  if (user === '' || server === '') return null;
  return { user, server: server === 'c.us' ? 's.whatsapp.net' : server };
}

/** One spelling per person/chat: no device suffix, `c.us` as `s.whatsapp.net`. */
export function normalizeJid(jid: string): string {
  const parsed = parseJid(jid);
  return parsed === null ? jid : `${parsed.user}@${parsed.server}`;
}

export const isGroupJid = (jid: string): boolean => jid.endsWith('@g.us');
export const isLidJid = (jid: string): boolean => jid.endsWith('@lid');
export const isPhoneJid = (jid: string): boolean => jid.endsWith('@s.whatsapp.net');
/** `status@broadcast` (stories) and broadcast lists are not conversations. */
export const isBroadcastJid = (jid: string): boolean => jid.endsWith('@broadcast');

/** The E.164 number of a phone JID, or null for groups, LIDs and numbers that cannot exist. */
export function phoneE164FromJid(jid: string): string | null {
  if (!isPhoneJid(jid)) return null;
  const user = parseJid(jid)?.user;
  if (user === undefined || !/^\d{7,15}$/.test(user)) return null;
  const phone = parsePhoneNumberFromString(`+${user}`);
  if (phone === undefined || !phone.isPossible()) return null;
  return phone.number;
}

/**
 * The JID a conversation is filed under: the phone JID when a LID's number is known, so a
 * contact seen under both is one thread.
 */
export function canonicalChatJid(jid: string, lidToPn: ReadonlyMap<string, string>): string {
  const normalized = normalizeJid(jid);
  if (isLidJid(normalized)) return lidToPn.get(normalized) ?? normalized;
  return normalized;
}
