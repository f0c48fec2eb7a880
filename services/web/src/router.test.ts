import { describe, expect, it } from 'vitest';
import { parseRoute, paths } from './router.js';

describe('routes', () => {
  it('when a path is built for an id with reserved characters, then it parses back to the same id', () => {
    const threadId = 'wa-01_40722333444@s.whatsapp.net/x?y#z';
    expect(parseRoute(paths.chat(threadId))).toEqual({ name: 'chat', threadId });
    expect(parseRoute(paths.client('+40722333444'))).toEqual({
      name: 'client',
      phoneE164: '+40722333444',
    });
    expect(parseRoute(paths.inbox('wa-01'))).toEqual({ name: 'inbox', accountId: 'wa-01' });
    expect(parseRoute(paths.calendar('wa-01'))).toEqual({ name: 'calendar', accountId: 'wa-01' });
    expect(parseRoute(paths.calendar())).toEqual({ name: 'calendar', accountId: null });
    expect(parseRoute(paths.payments('wa/01'))).toEqual({ name: 'payments', accountId: 'wa/01' });
    expect(parseRoute(paths.report())).toEqual({ name: 'report', accountId: null });
    expect(parseRoute(paths.clients())).toEqual({ name: 'clients' });
  });

  it('when the path is /, /accounts, /inbox or unknown, then the right screen is chosen', () => {
    expect(parseRoute('/')).toEqual({ name: 'accounts' });
    expect(parseRoute('/accounts')).toEqual({ name: 'accounts' });
    expect(parseRoute('/inbox')).toEqual({ name: 'inbox', accountId: null });
    expect(parseRoute('/chat')).toEqual({ name: 'not-found' });
    expect(parseRoute('/clients/%E0%A4%A')).toEqual({ name: 'client', phoneE164: '%E0%A4%A' });
    expect(parseRoute('/nope/deeper/path')).toEqual({ name: 'not-found' });
  });
});
