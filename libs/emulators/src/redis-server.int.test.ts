import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './free-port.util.js';
import { redisCommand, startRedisServer, type RedisServerHandle } from './redis-server.process.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(
  options: Parameters<typeof startRedisServer>[0] = {},
): Promise<RedisServerHandle> {
  const handle = await startRedisServer(options);
  cleanups.push(() => handle.stop());
  return handle;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wacrm-redis-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('startRedisServer', () => {
  it('when started without a port, then it answers PING on redis://127.0.0.1 and listens on loopback only', async () => {
    const redis = await start();

    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.pid).toBeGreaterThan(0);
    expect(await redisCommand(redis.port, ['PING'])).toBe('+PONG\r\n');
    // 127.0.0.2 is also on the loopback interface, so it only answers if redis bound 0.0.0.0.
    expect(await canConnect('127.0.0.2', redis.port)).toBe(false);
    const listeners = execFileSync('ss', ['-Hltn', `sport = :${redis.port}`], { encoding: 'utf8' });
    expect(
      listeners
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/)[3]),
    ).toEqual([`127.0.0.1:${redis.port}`]);
  });

  it('when stopped, then the process exits and the port is closed', async () => {
    const redis = await start();
    const { pid, port } = redis;

    await redis.stop();

    expect(() => process.kill(pid, 0)).toThrow();
    expect(await canConnect('127.0.0.1', port)).toBe(false);
  });

  it('when restarted with appendOnly in a dir, then keys written before are still there on the same port', async () => {
    const dir = await tempDir();
    const redis = await start({ dir, appendOnly: true });
    const { port, pid } = redis;
    expect(await redisCommand(port, ['SET', 'greeting', 'hello'])).toBe('+OK\r\n');

    await redis.restart();

    expect(redis.port).toBe(port);
    expect(redis.pid).not.toBe(pid);
    expect(await redisCommand(port, ['GET', 'greeting'])).toBe('$5\r\nhello\r\n');
  });

  it('when a new server starts on the dir of a stopped appendOnly server, then it loads the data', async () => {
    const dir = await tempDir();
    const first = await start({ dir, appendOnly: true });
    await redisCommand(first.port, ['RPUSH', 'jobs', 'a', 'b', 'c']);
    await first.stop();

    const second = await start({ dir, appendOnly: true });

    expect(await redisCommand(second.port, ['LLEN', 'jobs'])).toBe(':3\r\n');
  });

  it('when the server is killed, then restart() brings it back on the same url', async () => {
    const redis = await start();
    const url = redis.url;

    redis.kill('SIGKILL');
    await expect(redisCommand(redis.port, ['PING'], 500)).rejects.toThrow();
    await redis.restart();

    expect(redis.url).toBe(url);
    expect(await redisCommand(redis.port, ['PING'])).toBe('+PONG\r\n');
  });

  it('when the requested port is taken, then start fails with the redis-server output in the error', async () => {
    const port = await freePort();
    // Sockets the readiness probe opens must be ended, or close() would wait for them forever.
    const blocker = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => blocker.close(() => resolve())));

    const failure = await startRedisServer({ port }).then(
      () => new Error('redis-server started on a port in use'),
      (error: unknown) => error as Error,
    );
    expect(failure.message).toContain('exited early');
    expect(failure.message.toLowerCase()).toContain('address already in use');
  });
});
