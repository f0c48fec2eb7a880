import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withBuildLock } from './build-lock.js';

const freshLock = () => join(mkdtempSync(join(tmpdir(), 'build-lock-test-')), 'lock');

describe('the build lock of the test harnesses', () => {
  it('when a killed run left the lock behind (its pid gone), then the next run takes it at once', () => {
    const lock = freshLock();
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(gone));
    const t0 = Date.now();
    expect(withBuildLock(() => 'built', { lock, timeoutMs: 5_000 })).toBe('built');
    expect(Date.now() - t0).toBeLessThan(4_000);
    expect(existsSync(lock)).toBe(false);
  });

  it('when a live process holds the lock, then the run waits and gives up at its deadline', () => {
    const lock = freshLock();
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(process.pid));
    expect(() => withBuildLock(() => 'built', { lock, timeoutMs: 600 })).toThrow(/held for 600 ms/);
    expect(existsSync(lock)).toBe(true);
  });
});
