import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  expressionErrors,
  rulesAllow,
  type RulesRequest,
  type RulesValue,
} from './rules-evaluator.js';
import { parseRules } from './rules-parser.js';

// Issue 15 item 4: the rules give a signed-in client what the API gives it, no more.
const tree = parseRules(
  readFileSync(new URL('../../../firebase/firestore.rules', import.meta.url), 'utf8'),
);

const users: Record<string, Record<string, RulesValue>> = {
  'users/emp-a': { role: 'employee', allowedAccounts: ['wa-a'] },
  'users/emp-b': { role: 'employee', allowedAccounts: ['wa-b'] },
  'users/boss': { role: 'admin', allowedAccounts: [] },
};

function event(extra: Record<string, RulesValue> = {}): Record<string, RulesValue> {
  return {
    phoneE164: '+40700000001',
    createdBy: 'emp-a',
    schemaVersion: 3,
    isArchived: false,
    archivedAt: null,
    eventShortId: 'EV-00001',
    accountId: 'wa-a',
    date: '2026-06-01',
    payment: { amount: 500, advance: 100, paid: 100, currency: 'RON' },
    ...extra,
  };
}

function allowed(
  uid: string | null,
  operation: RulesRequest['operation'],
  path: string,
  docs: { resource?: Record<string, RulesValue>; newData?: Record<string, RulesValue> } = {},
): boolean {
  return rulesAllow(tree, {
    path,
    operation,
    auth: uid === null ? null : { uid },
    documents: users,
    ...docs,
  });
}

describe('rules evaluator', () => {
  it('when the project rules are read, then every condition and function body is understood', () => {
    expect(expressionErrors(tree)).toEqual([]);
  });

  it('when a condition errs (signed out, missing document), then the request is denied', () => {
    expect(allowed(null, 'get', 'accounts/wa-a')).toBe(false);
    expect(allowed('stranger', 'get', 'accounts/wa-a')).toBe(false);
    expect(allowed('emp-a', 'get', 'accounts/wa-a')).toBe(true);
    expect(allowed('emp-a', 'get', 'accounts/wa-b')).toBe(false);
  });
});

describe('evenimente', () => {
  it('when a user reads an event, then only the accounts of its profile count', () => {
    const resource = event();
    expect(allowed('emp-a', 'get', 'evenimente/e1', { resource })).toBe(true);
    expect(allowed('emp-b', 'get', 'evenimente/e1', { resource })).toBe(false);
    expect(allowed('stranger', 'get', 'evenimente/e1', { resource })).toBe(false);
    expect(allowed('boss', 'list', 'evenimente/e1', { resource })).toBe(true);
    const noAccount = event({ accountId: null });
    expect(allowed('emp-a', 'get', 'evenimente/e2', { resource: noAccount })).toBe(false);
    expect(allowed('boss', 'get', 'evenimente/e2', { resource: noAccount })).toBe(true);
  });

  it('when a user creates an event, then it must be for one of its accounts, by itself, not archived', () => {
    expect(allowed('emp-a', 'create', 'evenimente/n1', { newData: event() })).toBe(true);
    for (const newData of [
      event({ accountId: 'wa-b' }),
      event({ accountId: null }),
      event({ createdBy: 'emp-b' }),
      event({ isArchived: true }),
      event({ schemaVersion: 1 }),
    ]) {
      expect(
        allowed('emp-a', 'create', 'evenimente/n1', { newData }),
        JSON.stringify(newData),
      ).toBe(false);
    }
    const stranger = event({ createdBy: 'stranger' });
    expect(allowed('stranger', 'create', 'evenimente/n1', { newData: stranger })).toBe(false);
    const byBoss = event({ createdBy: 'boss', accountId: null });
    expect(allowed('boss', 'create', 'evenimente/n1', { newData: byBoss })).toBe(true);
  });

  it('when a user edits an event, then only its accounts’ events, and never account, author or archive flag', () => {
    const resource = event();
    const paid = event({ payment: { amount: 500, advance: 100, paid: 500, currency: 'RON' } });
    expect(allowed('emp-a', 'update', 'evenimente/e1', { resource, newData: paid })).toBe(true);
    expect(allowed('emp-b', 'update', 'evenimente/e1', { resource, newData: paid })).toBe(false);
    const changes: Array<Record<string, RulesValue>> = [
      { accountId: 'wa-b' },
      { createdBy: 'emp-b' },
      { phoneE164: '+40700000009' },
      { isArchived: true, archivedAt: '2026-06-02' },
      { eventShortId: 'EV-99999' },
    ];
    for (const change of changes) {
      const newData = event(change);
      expect(
        allowed('emp-a', 'update', 'evenimente/e1', { resource, newData }),
        JSON.stringify(change),
      ).toBe(false);
    }
    // Moving another account's event into one's own is no way in either.
    const theirs = event({ accountId: 'wa-b' });
    expect(
      allowed('emp-a', 'update', 'evenimente/e3', { resource: theirs, newData: event() }),
    ).toBe(false);
    const archived = event({ isArchived: true });
    expect(
      allowed('emp-a', 'update', 'evenimente/e4', {
        resource: archived,
        newData: { ...archived, date: '2026-07-01' },
      }),
    ).toBe(false);
  });

  it('when anyone deletes an event, then it is denied', () => {
    for (const uid of ['emp-a', 'boss']) {
      expect(allowed(uid, 'delete', 'evenimente/e1', { resource: event() })).toBe(false);
    }
  });
});

describe('clients', () => {
  const client = (accountIds: string[]) => ({
    phoneE164: '+40700000001',
    eventsCount: 2,
    lifetimeSpendPaid: 600,
    accountIds,
  });

  it('when an employee reads a client, then only one whose accounts are all its own (its figures are then all visible to it)', () => {
    expect(allowed('emp-a', 'get', 'clients/+40700000001', { resource: client(['wa-a']) })).toBe(
      true,
    );
    for (const accountIds of [['wa-a', 'wa-b'], ['wa-b'], []]) {
      expect(
        allowed('emp-a', 'get', 'clients/+40700000001', { resource: client(accountIds) }),
        accountIds.join(','),
      ).toBe(false);
    }
    expect(
      allowed('boss', 'get', 'clients/+40700000001', { resource: client(['wa-a', 'wa-b']) }),
    ).toBe(true);
    expect(
      allowed('emp-a', 'update', 'clients/+40700000001', {
        resource: client(['wa-a']),
        newData: client(['wa-a']),
      }),
    ).toBe(false);
  });
});

describe('server-only collections', () => {
  it('when a signed-in user reads or writes keys, webhooks, users of others or auth state, then it is denied', () => {
    for (const path of [
      'apiKeys/k1',
      'webhooks/w1',
      'authState/wa-a/keys/x',
      'users/emp-b',
      'performerFeeds/p1',
    ]) {
      expect(allowed('emp-a', 'get', path, { resource: {} }), path).toBe(false);
      expect(allowed('emp-a', 'create', path, { newData: {} }), path).toBe(false);
    }
    expect(allowed('emp-a', 'get', 'users/emp-a', { resource: users['users/emp-a']! })).toBe(true);
  });
});
