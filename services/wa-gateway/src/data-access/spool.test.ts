import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.js';

const job = (i: number) => ({ name: 'update-account', jobId: `job-${i}`, payload: { i } });
const opened: Spool[] = [];

async function openSpool(dir: string, instanceId: string, orphanAfterMs = 30_000) {
  const spool = new Spool({ dir, instanceId, orphanAfterMs });
  await spool.open();
  opened.push(spool);
  return spool;
}

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

describe('Spool', () => {
  it('when it rotates while appends arrive, then every append is in exactly one sealed or active file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spool-rotate-'));
    const spool = await openSpool(dir, 'gw-a');
    const appends = Array.from({ length: 500 }, (_, i) => spool.append(job(i)));
    const rotations = Array.from({ length: 20 }, () => spool.rotate());
    await Promise.all([...appends, ...rotations]);
    await spool.rotate();
    const seen = (await Promise.all(spool.pending.map((s) => spool.read(s)))).flat();
    expect(seen.map((j) => j.jobId).sort()).toEqual(
      Array.from({ length: 500 }, (_, i) => `job-${i}`).sort(),
    );
    expect(spool.size).toBe(500);
    expect(spool.pending.reduce((n, s) => n + s.count, 0)).toBe(500);
  });

  it('when the owner of a spool file is alive, then no other instance takes it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spool-live-'));
    const owner = await openSpool(dir, 'gw-a');
    await owner.append(job(1));
    const other = await openSpool(dir, 'gw-b');
    expect(await other.claimOrphans()).toBe(0);
    expect(owner.size).toBe(1);
  });

  it('when the owner process is gone on this host, then another instance takes its files at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spool-dead-pid-'));
    // A spool left by a process that no longer exists (pid far above pid_max).
    const dead = 'gw-dead~4194999-0a0b0c0d';
    await writeFile(join(dir, `${dead}.owner`), JSON.stringify({ host: hostname(), pid: 4194999 }));
    const lines = [job(1), job(2)].map((j) => JSON.stringify(j)).join('\n');
    await writeFile(join(dir, `${dead}.0000000001.spool.jsonl`), `${lines}\n{"torn`);
    const other = await openSpool(dir, 'gw-b');
    expect(await other.claimOrphans()).toBe(2);
    expect(other.size).toBe(2);
    const files = await readdir(dir);
    expect(files.filter((f) => f.startsWith('gw-dead'))).toEqual([]);
  });

  it('when the owner elsewhere stops refreshing its beacon, then its files are taken after the threshold', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spool-stale-'));
    const remote = 'gw-remote~1-00000000';
    await writeFile(join(dir, `${remote}.owner`), JSON.stringify({ host: 'another-host', pid: 1 }));
    await writeFile(join(dir, `${remote}.0000000001.spool.jsonl`), `${JSON.stringify(job(7))}\n`);
    const other = await openSpool(dir, 'gw-b', 1_000);
    expect(await other.claimOrphans()).toBe(0);
    expect(await other.claimOrphans(Date.now() + 1_001)).toBe(1);
  });

  it('when several instances claim the same orphans at once, then each file is replayed by exactly one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spool-race-'));
    for (let f = 1; f <= 20; f++) {
      const name = `gw-gone~1-0000000${f % 10}.${String(f).padStart(10, '0')}.spool.jsonl`;
      await writeFile(join(dir, name), `${JSON.stringify(job(f))}\n`);
    }
    const claimers = await Promise.all(['x', 'y', 'z'].map((id) => openSpool(dir, `gw-${id}`)));
    const counts = await Promise.all(claimers.map((c) => c.claimOrphans()));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(20);
    const replayed = (
      await Promise.all(claimers.flatMap((c) => c.pending.map((s) => c.read(s))))
    ).flat();
    expect(replayed.map((j) => j.jobId).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `job-${i + 1}`).sort(),
    );
  });

  it('when an instance closes with jobs spooled, then its files are orphans at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spool-closed-'));
    const first = new Spool({ dir, instanceId: 'gw-a', orphanAfterMs: 60_000 });
    await first.open();
    await first.append(job(1));
    await first.close();
    const second = await openSpool(dir, 'gw-b');
    expect(await second.claimOrphans()).toBe(1);
    const [segment] = second.pending;
    expect(JSON.parse((await readFile(segment!.path, 'utf8')).trim())).toEqual(job(1));
  });
});
