import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * The `redis-server` binary: env `REDIS_SERVER_BIN`, else `redis-server` on the PATH.
 * `null` when there is none.
 */
export function redisServerBinary(): string | null {
  const candidate = process.env.REDIS_SERVER_BIN || 'redis-server';
  const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 && /Redis server/.test(probe.stdout) ? candidate : null;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; it is released at once for the server to bind). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/**
 * One `redis-server` of a test file: loopback only, a free port, persistence off (no RDB, no
 * AOF), so a restart loses every key as a production Redis without persistence would. The
 * port stays the same across {@link restart}.
 */
export class RedisServer {
  port = 0;
  private child: ChildProcess | null = null;
  private readonly clients = new Set<Redis>();

  constructor(private readonly binary: string) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  async start(): Promise<void> {
    if (this.child !== null) return;
    if (this.port === 0) this.port = await freePort();
    const child = spawn(
      this.binary,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'yes',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) =>
        reject(new Error(`redis-server exited (${code}) on port ${this.port}: ${output.trim()}`)),
      ),
    );
    exited.catch(() => undefined);
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    const probe = new Redis(this.port, '127.0.0.1', {
      lazyConnect: true,
      retryStrategy: () => 20,
      maxRetriesPerRequest: null,
    });
    probe.on('error', () => undefined);
    try {
      await withTimeout(
        Promise.race([probe.ping(), exited]),
        10_000,
        'redis-server did not answer',
      );
    } finally {
      probe.disconnect();
    }
  }

  /** Stops the server (SIGTERM; nothing is saved) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await withTimeout(exited, 10_000, 'redis-server did not stop').catch(() => {
      child.kill('SIGKILL');
      return exited;
    });
    this.child = null;
  }

  /** Stops it and starts it again on the same port: every key is gone. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  /**
   * A client of this server, closed by {@link closeClients}. It reconnects every 50 ms while
   * the server is down, and its commands wait for the reconnection.
   */
  client(options: RedisOptions = {}): Redis {
    const client = new Redis(this.port, '127.0.0.1', {
      retryStrategy: () => 50,
      maxRetriesPerRequest: null,
      ...options,
    });
    client.on('error', () => undefined);
    this.clients.add(client);
    return client;
  }

  async closeClients(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    this.clients.clear();
  }
}

/** A key prefix no other test uses. */
export function uniquePrefix(name: string): string {
  return `test-${name}-${randomBytes(4).toString('hex')}`;
}

/**
 * `describe(name, fn)` with a `redis-server` of the block's own, started before its tests and
 * stopped after them. Without the binary the block is skipped visibly (a warning says why),
 * or, with `REQUIRE_REDIS=1` (CI), replaced by one failing test.
 */
export function describeWithRedis(name: string, fn: (server: RedisServer) => void): void {
  const binary = redisServerBinary();
  if (binary !== null) {
    describe(name, () => {
      const server = new RedisServer(binary);
      beforeAll(() => server.start(), 20_000);
      afterAll(async () => {
        await server.closeClients();
        await server.stop();
      });
      fn(server);
    });
    return;
  }
  const reason = `redis-server not found (${process.env.REDIS_SERVER_BIN ? `REDIS_SERVER_BIN=${process.env.REDIS_SERVER_BIN}` : 'not on the PATH'})`;
  if (process.env.REQUIRE_REDIS === '1') {
    describe(name, () => {
      it('needs redis-server (REQUIRE_REDIS=1)', () => {
        throw new Error(`${reason}; install the redis-server package or unset REQUIRE_REDIS`);
      });
    });
    return;
  }
  console.warn(`Skipping "${name}": ${reason} (install the redis-server package to run it)`);
  describe.skip(name, () => {
    it(`skipped: ${reason}`, () => {});
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
