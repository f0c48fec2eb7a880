import { useEffect, useState } from 'react';

/** Screens by path; ids are URI-encoded path segments. */
export type Route =
  | { name: 'accounts' }
  | { name: 'inbox'; accountId: string | null }
  | { name: 'chat'; threadId: string }
  | { name: 'client'; phoneE164: string }
  | { name: 'calendar'; accountId: string | null }
  | { name: 'payments'; accountId: string | null }
  | { name: 'report'; accountId: string | null }
  | { name: 'clients' }
  | { name: 'not-found' };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter((p) => p.length > 0);
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const [head, arg] = parts;
  if (parts.length === 0 || (head === 'accounts' && parts.length === 1))
    return { name: 'accounts' };
  if (head === 'inbox' && parts.length <= 2) {
    return { name: 'inbox', accountId: arg !== undefined ? decode(arg) : null };
  }
  if (head === 'chat' && arg !== undefined && parts.length === 2) {
    return { name: 'chat', threadId: decode(arg) };
  }
  if (head === 'calendar' && parts.length <= 2) {
    return { name: 'calendar', accountId: arg !== undefined ? decode(arg) : null };
  }
  if ((head === 'payments' || head === 'report') && parts.length <= 2) {
    return { name: head, accountId: arg !== undefined ? decode(arg) : null };
  }
  if (head === 'clients' && parts.length === 1) return { name: 'clients' };
  if (head === 'clients' && arg !== undefined && parts.length === 2) {
    return { name: 'client', phoneE164: decode(arg) };
  }
  return { name: 'not-found' };
}

export const paths = {
  accounts: () => '/accounts',
  inbox: (accountId?: string) =>
    accountId !== undefined ? `/inbox/${encodeURIComponent(accountId)}` : '/inbox',
  chat: (threadId: string) => `/chat/${encodeURIComponent(threadId)}`,
  /** The chat opened at a message (a search hit): `?at=<messageId>&ts=<ISO time>`. */
  chatAt: (threadId: string, messageId: string, ts: string) =>
    `/chat/${encodeURIComponent(threadId)}?at=${encodeURIComponent(messageId)}&ts=${encodeURIComponent(ts)}`,
  client: (phoneE164: string) => `/clients/${encodeURIComponent(phoneE164)}`,
  calendar: (accountId?: string) =>
    accountId !== undefined ? `/calendar/${encodeURIComponent(accountId)}` : '/calendar',
  payments: (accountId?: string) =>
    accountId !== undefined ? `/payments/${encodeURIComponent(accountId)}` : '/payments',
  report: (accountId?: string) =>
    accountId !== undefined ? `/report/${encodeURIComponent(accountId)}` : '/report',
  clients: () => '/clients',
};

const listeners = new Set<() => void>();

export function navigate(path: string, replace = false): void {
  if (path === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  listeners.forEach((l) => l());
}

export function useRoute(): Route {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const update = () => setPath(window.location.pathname);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return parseRoute(path);
}
