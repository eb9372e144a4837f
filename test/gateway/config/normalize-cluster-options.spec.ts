import { ConfigError } from '../../../lib/gateway/errors/index.js';
import {
  normalizeClusterOptions,
  normalizeShardOptions,
  shardIdsOf,
  shardOptionsFor,
  type ClusterOptions,
} from '../../../lib/gateway/config/index.js';

const base: ClusterOptions = { token: 'abc.def', intents: ['Guilds'] };

function issuesOf(overrides: Record<string, unknown>): { path: string; rule: string }[] {
  try {
    normalizeClusterOptions({ ...base, ...overrides } as ClusterOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('normalizeClusterOptions: defaults and schemes', () => {
  it('defaults to the recommended shards, Discord API v10, fail on budget exhaustion', () => {
    const config = normalizeClusterOptions(base);
    expect(config.shards).toEqual({ kind: 'recommended' });
    expect(config.apiUrl).toBe('https://discord.com/api/v10');
    expect(config.presence).toBeNull();
    expect(config.maxConcurrency).toBeNull();
    expect(config.identifyWindowMs).toBe(5_000);
    expect(config.onBudgetExhausted).toBe('fail');
    expect(config.guildsReadyTimeoutMs).toBe(15_000);
    expect(config.timeouts.guildsReadyMs).toBe(15_000);
    expect(config.intents).toBe(1);
    expect(Object.isFrozen(config) && Object.isFrozen(config.shards)).toBe(true);
  });

  it('normalizes an inclusive range', () => {
    const config = normalizeClusterOptions({ ...base, shards: { from: 2, to: 5, shardCount: 8 } });
    expect(config.shards).toEqual({ kind: 'range', from: 2, to: 5, shardCount: 8 });
    expect(shardIdsOf(config.shards)).toEqual([2, 3, 4, 5]);
  });

  it('GW-SH-4: buckets select every shard whose id % maxConcurrency is listed', () => {
    const config = normalizeClusterOptions({
      ...base,
      shards: { buckets: [3, 1], shardCount: 16, maxConcurrency: 4 },
    });
    expect(config.shards).toEqual({
      kind: 'buckets',
      buckets: [1, 3],
      shardCount: 16,
      maxConcurrency: 4,
    });
    expect(config.maxConcurrency).toBe(4);
    expect(shardIdsOf(config.shards)).toEqual([1, 3, 5, 7, 9, 11, 13, 15]);
  });

  it('recommended shards need the count from GET /gateway/bot', () => {
    expect(shardIdsOf({ kind: 'recommended' }, 3)).toEqual([0, 1, 2]);
    expect(() => shardIdsOf({ kind: 'recommended' })).toThrow(ConfigError);
  });

  it('keeps a presence function, accepts loopback http: for the API and other options', () => {
    const presence = (shardId: number) => ({
      since: null,
      activities: [{ name: `shard ${shardId}`, type: 0 }],
      status: 'online' as never,
      afk: false,
    });
    const config = normalizeClusterOptions({
      ...base,
      presence,
      apiUrl: 'http://127.0.0.1:3000/api/v10/',
      maxConcurrency: 16,
      identifyWindowMs: 1_000,
      onBudgetExhausted: 'wait',
      guildsReadyTimeoutMs: 30_000,
    });
    expect(config.presence).toBe(presence);
    expect(config.apiUrl).toBe('http://127.0.0.1:3000/api/v10');
    expect(config.maxConcurrency).toBe(16);
    expect(config.onBudgetExhausted).toBe('wait');
    expect(config.guildsReadyTimeoutMs).toBe(30_000);
    expect(config.timeouts.guildsReadyMs).toBe(30_000);
  });

  it('shardOptionsFor gives valid shard options: id, count, session and the per-shard presence', () => {
    const config = normalizeClusterOptions({
      ...base,
      presence: (shardId) => ({
        since: null,
        activities: [{ name: `s${shardId}`, type: 0 }],
        status: 'idle' as never,
        afk: false,
      }),
      limits: { heartbeatReserve: 20 },
    });
    const session = { id: 'sess', sequence: 9, resumeUrl: 'wss://gateway-us-east1-b.discord.gg' };
    const shard = normalizeShardOptions(shardOptionsFor(config, 3, 4, session));
    expect(shard.shardId).toBe(3);
    expect(shard.shardCount).toBe(4);
    expect(shard.session).toEqual(session);
    expect(shard.presence).toEqual({
      since: null,
      activities: [{ name: 's3', type: 0 }],
      status: 'idle',
      afk: false,
    });
    expect(shard.token).toBe(config.token);
    expect(shard.limits).toEqual(config.limits);
    expect(shard.eventTypes).toBe(config.eventTypes);
  });

  it('a presence function that returns a bad presence fails when the shard is configured', () => {
    const config = normalizeClusterOptions({
      ...base,
      presence: () => ({ status: 'away' }) as never,
    });
    expect(() => normalizeShardOptions(shardOptionsFor(config, 0, 1))).toThrow(/presence\.status/);
  });
});

describe('normalizeClusterOptions: the bad-input catalogue (issue 6)', () => {
  it.each<[string, Record<string, unknown>, string, RegExp]>([
    [
      'an unknown scheme name',
      { shards: 'auto' },
      'shards',
      /'recommended', \{ from, to, shardCount \}/,
    ],
    [
      'range from > to',
      { shards: { from: 3, to: 2, shardCount: 4 } },
      'shards.from',
      /0 <= from <= to/,
    ],
    [
      'range to = shardCount',
      { shards: { from: 0, to: 4, shardCount: 4 } },
      'shards.to',
      /to < shardCount/,
    ],
    ['range from < 0', { shards: { from: -1, to: 2, shardCount: 4 } }, 'shards.from', /0 <= from/],
    [
      'range without shardCount',
      { shards: { from: 0, to: 2 } },
      'shards.shardCount',
      /between 1 and 65536/,
    ],
    [
      'range shardCount 0',
      { shards: { from: 0, to: 0, shardCount: 0 } },
      'shards.shardCount',
      /between 1 and 65536/,
    ],
    [
      'a range of ten million shards',
      { shards: { from: 0, to: 9_999_999, shardCount: 10_000_000 } },
      'shards.shardCount',
      /between 1 and 65536/,
    ],
    [
      'maxRecommendedShards 0',
      { maxRecommendedShards: 0 },
      'maxRecommendedShards',
      /between 1 and 65536/,
    ],
    [
      'an identify window of an hour',
      { identifyWindowMs: 3_600_000 },
      'identifyWindowMs',
      /at most 600000/,
    ],
    ['maxConcurrency 100000', { maxConcurrency: 100_000 }, 'maxConcurrency', /between 1 and 1024/],
    [
      'a range with an extra key',
      { shards: { from: 0, to: 1, shardCount: 2, step: 1 } },
      'shards.step',
      /not a known option/,
    ],
    [
      'duplicate buckets',
      { shards: { buckets: [0, 0], shardCount: 4, maxConcurrency: 2 } },
      'shards.buckets',
      /unique integers in \[0, maxConcurrency\)/,
    ],
    [
      'a bucket >= maxConcurrency',
      { shards: { buckets: [2], shardCount: 4, maxConcurrency: 2 } },
      'shards.buckets',
      /\[0, maxConcurrency\)/,
    ],
    [
      'no buckets',
      { shards: { buckets: [], shardCount: 4, maxConcurrency: 2 } },
      'shards.buckets',
      /non-empty/,
    ],
    [
      'buckets that hold no shard',
      { shards: { buckets: [5], shardCount: 2, maxConcurrency: 16 } },
      'shards.buckets',
      /at least one shard/,
    ],
    [
      'maxConcurrency 0 in buckets',
      { shards: { buckets: [0], shardCount: 2, maxConcurrency: 0 } },
      'shards.maxConcurrency',
      /between 1 and 1024/,
    ],
    [
      'a conflicting maxConcurrency',
      { maxConcurrency: 4, shards: { buckets: [0], shardCount: 4, maxConcurrency: 2 } },
      'maxConcurrency',
      /equal shards.maxConcurrency/,
    ],
    [
      'http: API to a remote host',
      { apiUrl: 'http://discord.com/api/v10' },
      'apiUrl',
      /http: only for a loopback host/,
    ],
    [
      'an API URL with a query',
      { apiUrl: 'https://discord.com/api/v10?x=1' },
      'apiUrl',
      /no query or fragment/,
    ],
    ['a non-http API URL', { apiUrl: 'wss://discord.com' }, 'apiUrl', /https: URL/],
    [
      'identifyWindowMs 0',
      { identifyWindowMs: 0 },
      'identifyWindowMs',
      /positive integer of milliseconds/,
    ],
    [
      'an unknown budget policy',
      { onBudgetExhausted: 'retry' },
      'onBudgetExhausted',
      /'fail', 'wait'/,
    ],
    [
      'conflicting guilds-ready timeouts',
      { guildsReadyTimeoutMs: 1_000, timeouts: { guildsReadyMs: 2_000 } },
      'guildsReadyTimeoutMs',
      /equal timeouts.guildsReadyMs/,
    ],
    [
      'a presence of the wrong type',
      { presence: 'online' },
      'presence',
      /presence object or a function/,
    ],
    ['a shard-only option (shardId)', { shardId: 0 }, 'shardId', /not a known option/],
    [
      'a shard-only option (session)',
      { session: { id: 'a', sequence: 1, resumeUrl: 'wss://x.example' } },
      'session',
      /not a known option/,
    ],
  ])('%s', (_name, overrides, path, rule) => {
    const issues = issuesOf(overrides);
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe(path);
    expect(issues[0].rule).toMatch(rule);
  });

  it('accepts http: to any host with allowInsecureGateway', () => {
    const config = normalizeClusterOptions({
      ...base,
      allowInsecureGateway: true,
      apiUrl: 'http://api.example.com/',
    });
    expect(config.apiUrl).toBe('http://api.example.com');
  });

  it('lists every problem at once', () => {
    const paths = issuesOf({
      token: 'Bot Bot x',
      intents: [1],
      shards: { from: 0, to: 9, shardCount: 4 },
      apiUrl: 'ftp://x',
      gatewayUrl: 'ws://example.com',
      largeThreshold: 0,
      extra: true,
    }).map((issue) => issue.path);
    expect(new Set(paths)).toEqual(
      new Set([
        'extra',
        'token',
        'intents[0]',
        'shards.to',
        'apiUrl',
        'gatewayUrl',
        'largeThreshold',
      ]),
    );
  });
});
