import type { GatewayLogger, Session } from '../../lib/gateway/index.js';
import { ConfigError } from '../../lib/gateway/index.js';
import {
  DEFAULT_SESSION_SAVE_INTERVAL_MS,
  DEFAULT_SESSION_TTL_MS,
  RedisKeys,
  RedisSessionStore,
  botIdFromToken,
} from '../../lib/redis/index.js';
import { describeWithRedis, uniquePrefix, type TestRedis } from '../support/redis-server.js';

const session: Session = {
  id: 'a1b2c3',
  sequence: 42,
  resumeUrl: 'wss://gateway-us-east1-b.discord.gg',
};

/** A token of Discord's form for user id 123456789012345678 (the other segments are made up). */
const TOKEN = `${Buffer.from('123456789012345678').toString('base64')}.GhJkLm.not-a-real-secret-part`;

function recordingLogger(): GatewayLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug: () => {},
    log: () => {},
    warn: (m) => warnings.push(m),
    error: () => {},
  };
}

describe('Redis keys', () => {
  it("derive the bot id from a Discord token's first segment, and never put another token in a key", () => {
    expect(botIdFromToken(TOKEN)).toBe('123456789012345678');
    expect(botIdFromToken(`Bot ${TOKEN}`)).toBe('123456789012345678');
    const other = botIdFromToken('fake-gateway-token');
    expect(other).toMatch(/^h[0-9a-f]{16}$/);
    expect(other).not.toContain('fake');
  });

  it('namespace by prefix, bot (as a hash tag) and shard count', () => {
    const keys = RedisKeys.of({ token: TOKEN, keyPrefix: 'bots' });
    expect(keys.session(16, 3)).toBe('bots:{123456789012345678}:shards:16:session:3');
    expect(keys.bucket(16, 4, 2)).toBe('bots:{123456789012345678}:shards:16:identify:4:bucket:2');
    expect(keys.budget).toBe('bots:{123456789012345678}:identify:budget');
    expect(keys.maxConcurrency).toBe('bots:{123456789012345678}:identify:max-concurrency');
  });
});

describeWithRedis('RedisSessionStore (real redis-server)', (server: TestRedis) => {
  function store(options: { prefix?: string; ttlMs?: number; logger?: GatewayLogger } = {}) {
    const redis = server.client();
    return {
      redis,
      store: new RedisSessionStore({
        redis,
        token: TOKEN,
        keyPrefix: options.prefix ?? uniquePrefix('sessions'),
        ttlMs: options.ttlMs,
        logger: options.logger,
      }),
    };
  }

  afterEach(() => server.closeClients());

  it('saves, loads and deletes by shard id and shard count, across processes (clients)', async () => {
    const prefix = uniquePrefix('share');
    const a = store({ prefix });
    const b = store({ prefix });
    expect(await b.store.load(3, 16)).toBeNull();
    await a.store.save(3, 16, { ...session, generation: 5 });
    await a.store.save(4, 16, session);
    expect(await b.store.load(3, 16)).toEqual({ ...session, generation: 5 });
    expect(await b.store.load(4, 16)).toEqual(session);
    expect(await b.store.load(3, 32)).toBeNull();
    await b.store.delete(3, 16);
    expect(await a.store.load(3, 16)).toBeNull();
    expect(await a.store.load(4, 16)).toEqual(session);
  });

  it('another prefix or another bot sees nothing', async () => {
    const prefix = uniquePrefix('isolated');
    const a = store({ prefix });
    await a.store.save(0, 1, session);
    expect(await store().store.load(0, 1)).toBeNull();
    const otherBot = new RedisSessionStore({ redis: a.redis, botId: '42', keyPrefix: prefix });
    expect(await otherBot.load(0, 1)).toBeNull();
  });

  it('each save sets the TTL (default 2 min), after which the session is gone', async () => {
    const a = store();
    expect(a.store.ttlMs).toBe(DEFAULT_SESSION_TTL_MS);
    expect(a.store.saveIntervalMs).toBe(DEFAULT_SESSION_SAVE_INTERVAL_MS);
    await a.store.save(1, 2, session);
    const ttl = await a.redis.pttl(a.store.keys.session(2, 1));
    expect(ttl).toBeGreaterThan(DEFAULT_SESSION_TTL_MS - 5_000);
    expect(ttl).toBeLessThanOrEqual(DEFAULT_SESSION_TTL_MS);
    const short = store({ ttlMs: 1_000 });
    await short.store.save(1, 2, session);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await short.store.load(1, 2)).toBeNull();
  });

  it('an older position of the same session never overwrites a newer one; another session does', async () => {
    const a = store();
    await a.store.save(0, 1, { ...session, sequence: 50 });
    await a.store.save(0, 1, { ...session, sequence: 40 });
    expect((await a.store.load(0, 1))?.sequence).toBe(50);
    await a.store.save(0, 1, { ...session, sequence: 60 });
    expect((await a.store.load(0, 1))?.sequence).toBe(60);
    await a.store.save(0, 1, { ...session, id: 'new-session', sequence: 1 });
    expect(await a.store.load(0, 1)).toMatchObject({ id: 'new-session', sequence: 1 });
  });

  it('a value that is not a session is logged and ignored', async () => {
    const logger = recordingLogger();
    const a = store({ logger });
    await a.redis.set(a.store.keys.session(2, 0), '{"id":5}');
    await a.redis.set(a.store.keys.session(2, 1), 'not json');
    expect(await a.store.load(0, 2)).toBeNull();
    expect(await a.store.load(1, 2)).toBeNull();
    expect(logger.warnings).toHaveLength(2);
    expect(logger.warnings[0]).toContain('does not hold a session');
  });

  it('bad options fail at construction, listing every problem', () => {
    let error: unknown;
    try {
      new RedisSessionStore({ redis: server.client(), ttlMs: 10, saveIntervalMs: 0 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path).sort()).toEqual([
      'saveIntervalMs',
      'token',
      'ttlMs',
    ]);
  });
});
