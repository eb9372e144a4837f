import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { RedisServer } from '../../lib/testing/index.js';

/** A test file's {@link RedisServer}, with ioredis clients that are closed after each test. */
export interface TestRedis {
  readonly port: number;
  readonly running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  restart(downMs?: number): Promise<void>;
  /**
   * A client of this server. It reconnects every 50 ms while the server is down, and its
   * commands wait for the reconnection (unless `options` say otherwise).
   */
  client(options?: RedisOptions): Redis;
  closeClients(): Promise<void>;
}

/** A key prefix no other test uses. */
export function uniquePrefix(name: string): string {
  return `test-${name}-${randomBytes(4).toString('hex')}`;
}

/**
 * `describe(name, fn)` with a `redis-server` of the block's own (RedisServer: loopback, a free
 * port, persistence off), started before its tests and stopped after them. Without the binary
 * the block is skipped visibly (a warning says why), or, with `REQUIRE_REDIS=1` (CI), replaced
 * by one failing test.
 */
export function describeWithRedis(name: string, fn: (server: TestRedis) => void): void {
  const binary = RedisServer.binary();
  if (binary !== null) {
    describe(name, () => {
      let server: RedisServer | null = null;
      const clients = new Set<Redis>();
      const handle: TestRedis = {
        get port() {
          return (server as RedisServer).port;
        },
        get running() {
          return server?.running ?? false;
        },
        start: () => (server as RedisServer).start(),
        stop: () => (server as RedisServer).stop(),
        restart: (downMs) => (server as RedisServer).restart(downMs),
        client: (options = {}) => {
          const client = new Redis((server as RedisServer).port, '127.0.0.1', {
            retryStrategy: () => 50,
            maxRetriesPerRequest: null,
            ...options,
          });
          client.on('error', () => undefined);
          clients.add(client);
          return client;
        },
        closeClients: async () => {
          for (const client of clients) client.disconnect();
          clients.clear();
        },
      };
      beforeAll(async () => {
        server = await RedisServer.start({ binary });
      }, 20_000);
      afterAll(async () => {
        await handle.closeClients();
        await server?.stop();
      });
      fn(handle);
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
