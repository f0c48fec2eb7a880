import { describe, expect, it } from 'vitest';
import { createRevocationCheck } from './auth.repository.js';

// Issue 15 item 5: outside the emulator firebase-admin checks revocation only when asked, and
// then with an Auth API call per request; this check is made on every request, cached briefly.
function fakeAuth(record: { disabled: boolean; tokensValidAfterTime?: string } | 'missing') {
  const calls: string[] = [];
  return {
    calls,
    auth: {
      getUser(uid: string) {
        calls.push(uid);
        if (record === 'missing') {
          return Promise.reject(Object.assign(new Error('gone'), { code: 'auth/user-not-found' }));
        }
        return Promise.resolve(record as never);
      },
    },
  };
}

const issuedAt = Date.parse('2026-05-01T10:00:00Z') / 1000;

describe('createRevocationCheck', () => {
  it('when tokens were revoked after the token was issued, then it is refused; before, it stands', async () => {
    const revokedLater = fakeAuth({
      disabled: false,
      tokensValidAfterTime: '2026-05-01T10:00:05Z',
    });
    await expect(createRevocationCheck(revokedLater.auth).check('u', issuedAt)).rejects.toThrow(
      /revoked/,
    );
    const revokedBefore = fakeAuth({
      disabled: false,
      tokensValidAfterTime: '2026-05-01T09:00:00Z',
    });
    await expect(createRevocationCheck(revokedBefore.auth).check('u', issuedAt)).resolves.toBe(
      undefined,
    );
  });

  it('when the user is disabled or deleted, then its tokens are refused', async () => {
    await expect(
      createRevocationCheck(fakeAuth({ disabled: true }).auth).check('u', issuedAt),
    ).rejects.toThrow(/disabled/);
    await expect(
      createRevocationCheck(fakeAuth('missing').auth).check('u', issuedAt),
    ).rejects.toThrow(/no longer exists/);
  });

  it('when checked twice within the cache time, then the Auth API is asked once', async () => {
    const fake = fakeAuth({ disabled: false });
    const check = createRevocationCheck(fake.auth, { ttlMs: 60_000 });
    await check.check('u', issuedAt);
    await check.check('u', issuedAt);
    expect(fake.calls).toEqual(['u']);
  });
});
