import { ConfigError } from '../../../lib/gateway/errors/index.js';
import { EventTypeFlags } from '../../../lib/gateway/events/event-type-flags.js';
import { EventType } from '../../../lib/gateway/events/event-type.js';
import {
  Token,
  normalizeShardOptions,
  type ShardOptions,
} from '../../../lib/gateway/config/index.js';

const TOKEN = 'MTIz.abc-def.ghi_jkl';
const base: ShardOptions = { token: TOKEN, intents: 513 };

/** The issues of the ConfigError `fn` throws. */
function issuesOf(fn: () => unknown): { path: string; rule: string }[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

const shardIssues = (overrides: Record<string, unknown>) =>
  issuesOf(() => normalizeShardOptions({ ...base, ...overrides } as ShardOptions));

function isDeeplyFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || value instanceof Token) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeeplyFrozen);
}

describe('normalizeShardOptions: defaults', () => {
  it('fills in every default and returns a deeply frozen plain object', () => {
    const config = normalizeShardOptions(base);
    expect({ ...config, token: undefined }).toEqual({
      token: undefined,
      intents: 513,
      shardId: 0,
      shardCount: 1,
      gatewayUrl: 'wss://gateway.discord.gg',
      allowInsecureGateway: false,
      trustedResumeHosts: [],
      resumeThroughGateway: false,
      maxMissedAcks: 2,
      compression: 'zlib-stream',
      encoding: 'json',
      largeThreshold: 50,
      presence: null,
      identifyProperties: {
        os: process.platform,
        browser: 'nestjs-discord-gateway',
        device: 'nestjs-discord-gateway',
      },
      eventTypes: EventTypeFlags.ALL,
      session: null,
      timeouts: { connectMs: 15_000, helloMs: 20_000, readyMs: 60_000, guildsReadyMs: 15_000 },
      reconnect: {
        baseDelayMs: 1_000,
        maxDelayMs: 60_000,
        resumeUrlFailures: 3,
        stableAfterMs: 60_000,
      },
      invalidSessionDelayMs: { min: 1_000, max: 5_000 },
      limits: {
        maxFrameBytes: 128 * 1024 * 1024,
        maxInflatedBytes: 128 * 1024 * 1024,
        commandsPerWindow: 120,
        commandWindowMs: 60_000,
        commandMarginMs: 1_000,
        presenceWindowMs: 20_000,
        presenceMarginMs: 1_000,
        heartbeatReserve: null,
      },
      recordTo: null,
      bufferSize: 1_000,
    });
    expect(config.token).toBeInstanceOf(Token);
    expect(isDeeplyFrozen(config)).toBe(true);
  });

  it('keeps given values and merges partial nested options with the defaults', () => {
    const config = normalizeShardOptions({
      ...base,
      intents: ['Guilds', 'GuildMessages', 'MessageContent'],
      shardId: 3,
      shardCount: 4,
      gatewayUrl: 'wss://gateway.example.com:8443/',
      compression: 'zstd-stream',
      encoding: 'etf',
      largeThreshold: 250,
      presence: { status: 'dnd', activities: [{ name: 'Cards', type: 0 }] },
      identifyProperties: { os: 'linux' },
      eventTypes: EventTypeFlags.of(EventType.MessageCreate),
      session: { id: 'abc', sequence: 42, resumeUrl: 'wss://gateway-us-east1-c.example.com' },
      timeouts: { readyMs: 120_000 },
      limits: { heartbeatReserve: 12 },
      recordTo: 'payloads.jsonl',
      bufferSize: 10,
    });
    expect(config.intents).toBe(1 | 512 | 32768);
    expect(config.shardId).toBe(3);
    expect(config.gatewayUrl).toBe('wss://gateway.example.com:8443');
    expect(config.presence).toEqual({
      since: null,
      activities: [{ name: 'Cards', type: 0 }],
      status: 'dnd',
      afk: false,
    });
    expect(config.identifyProperties.browser).toBe('nestjs-discord-gateway');
    expect(config.identifyProperties.os).toBe('linux');
    expect(config.session).toEqual({
      id: 'abc',
      sequence: 42,
      resumeUrl: 'wss://gateway-us-east1-c.example.com',
    });
    expect(config.timeouts).toEqual({
      connectMs: 15_000,
      helloMs: 20_000,
      readyMs: 120_000,
      guildsReadyMs: 15_000,
    });
    expect(config.limits.heartbeatReserve).toBe(12);
    expect(config.limits.commandsPerWindow).toBe(120);
    expect(config.recordTo).toBe('payloads.jsonl');
  });

  it('does not mutate the input', () => {
    const input = { ...base, timeouts: { readyMs: 1_000 } };
    const snapshot = JSON.stringify(input);
    normalizeShardOptions(input);
    expect(JSON.stringify(input)).toBe(snapshot);
  });
});

describe('normalizeShardOptions: token (GW-GT-20)', () => {
  it.each([
    ['no prefix', TOKEN],
    ['"Bot " prefix', `Bot ${TOKEN}`],
    ['lower-case "bot " prefix', `bot ${TOKEN}`],
    ['upper-case "BOT " prefix', `BOT ${TOKEN}`],
  ])('accepts a token with %s and keeps the raw token', (_name, token) => {
    expect(normalizeShardOptions({ ...base, token }).token.reveal()).toBe(TOKEN);
  });

  it('accepts a Token from another config as is', () => {
    const token = new Token(TOKEN);
    expect(normalizeShardOptions({ ...base, token }).token).toBe(token);
  });
});

describe('normalizeShardOptions: the bad-input catalogue (issue 6), one problem at a time', () => {
  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['empty token', { token: '' }, 'token', /non-empty string/],
    ['missing token', { token: undefined }, 'token', /non-empty string/],
    ['token of another type', { token: 42 }, 'token', /non-empty string/],
    ['only a prefix', { token: 'Bot ' }, 'token', /after the "Bot " prefix/],
    ['two Bot prefixes', { token: `Bot Bot ${TOKEN}` }, 'token', /at most one "Bot " prefix/],
    [
      'two mixed-case prefixes',
      { token: `bot BOT ${TOKEN}` },
      'token',
      /at most one "Bot " prefix/,
    ],
    ['a trailing newline', { token: `${TOKEN}\n` }, 'token', /whitespace/],
    ['inner whitespace', { token: 'abc def' }, 'token', /whitespace/],
    ['missing intents', { intents: undefined }, 'intents', /integer bitfield or an array/],
    ['intents not an integer', { intents: 1.5 }, 'intents', /non-negative integer/],
    ['negative intents', { intents: -1 }, 'intents', /non-negative integer/],
    ['intents as a string', { intents: '513' }, 'intents', /integer bitfield or an array/],
    ['undocumented intent bit 17', { intents: 1 << 17 }, 'intents', /17/],
    [
      'unknown intent name',
      { intents: ['Guilds', 'Nope'] },
      'intents[1]',
      /must be an intent name/,
    ],
    ['largeThreshold 49', { largeThreshold: 49 }, 'largeThreshold', /integer between 50 and 250/],
    ['largeThreshold 251', { largeThreshold: 251 }, 'largeThreshold', /integer between 50 and 250/],
    [
      'largeThreshold 100.5',
      { largeThreshold: 100.5 },
      'largeThreshold',
      /integer between 50 and 250/,
    ],
    ['shardId = shardCount', { shardId: 2, shardCount: 2 }, 'shardId', /0 <= shardId < shardCount/],
    ['shardId beyond the default count', { shardId: 1 }, 'shardId', /0 <= shardId < shardCount/],
    ['negative shardId', { shardId: -1, shardCount: 2 }, 'shardId', /0 <= shardId < shardCount/],
    ['shardCount 0', { shardCount: 0 }, 'shardCount', /between 1 and 65536/],
    ['ten million shards', { shardCount: 10_000_000 }, 'shardCount', /between 1 and 65536/],
    [
      'ws: to a remote host',
      { gatewayUrl: 'ws://gateway.example.com' },
      'gatewayUrl',
      /ws: only for a loopback host/,
    ],
    ['http: gateway', { gatewayUrl: 'https://gateway.discord.gg' }, 'gatewayUrl', /wss: URL/],
    ['not a URL', { gatewayUrl: 'gateway.discord.gg' }, 'gatewayUrl', /wss: URL/],
    ['a fragment', { gatewayUrl: 'wss://proxy.example/discord#x' }, 'gatewayUrl', /no fragment/],
    [
      'credentials',
      { gatewayUrl: 'wss://user:pw@gateway.discord.gg' },
      'gatewayUrl',
      /credentials/,
    ],
    [
      'allowInsecureGateway not a boolean',
      { allowInsecureGateway: 'yes' },
      'allowInsecureGateway',
      /boolean/,
    ],
    [
      'unknown compression',
      { compression: 'deflate' },
      'compression',
      /'zlib-stream', 'zstd-stream', 'none'/,
    ],
    ['unknown encoding', { encoding: 'xml' }, 'encoding', /'json', 'etf'/],
    [
      'a zero timeout',
      { timeouts: { connectMs: 0 } },
      'timeouts.connectMs',
      /positive integer of milliseconds/,
    ],
    [
      'a timeout over setTimeout range',
      { timeouts: { readyMs: 2 ** 31 } },
      'timeouts.readyMs',
      /at most 3600000/,
    ],
    [
      'a 25-day timeout',
      { timeouts: { connectMs: 25 * 86_400_000 } },
      'timeouts.connectMs',
      /at most 3600000/,
    ],
    [
      'a backoff cap over an hour',
      { reconnect: { maxDelayMs: 3_600_001 } },
      'reconnect.maxDelayMs',
      /at most 3600000/,
    ],
    [
      'stableAfterMs 0',
      { reconnect: { stableAfterMs: 0 } },
      'reconnect.stableAfterMs',
      /positive integer of milliseconds/,
    ],
    [
      'an op 9 wait over 10 minutes',
      { invalidSessionDelayMs: { min: 0, max: 600_001 } },
      'invalidSessionDelayMs.max',
      /between 0 and 600000/,
    ],
    ['timeouts not an object', { timeouts: 5 }, 'timeouts', /must be an object/],
    [
      'maxDelayMs below baseDelayMs',
      { reconnect: { baseDelayMs: 5_000, maxDelayMs: 1_000 } },
      'reconnect.maxDelayMs',
      />= baseDelayMs/,
    ],
    [
      'maxDelayMs below the default baseDelayMs',
      { reconnect: { maxDelayMs: 500 } },
      'reconnect.maxDelayMs',
      />= baseDelayMs/,
    ],
    [
      'resumeUrlFailures 0',
      { reconnect: { resumeUrlFailures: 0 } },
      'reconnect.resumeUrlFailures',
      /between 1 and 1000/,
    ],
    [
      'invalid-session max below min',
      { invalidSessionDelayMs: { min: 3_000, max: 2_000 } },
      'invalidSessionDelayMs.max',
      />= min/,
    ],
    [
      'invalid-session max below default min',
      { invalidSessionDelayMs: { max: 500 } },
      'invalidSessionDelayMs.max',
      />= min/,
    ],
    [
      'more than 120 commands per window',
      { limits: { commandsPerWindow: 121 } },
      'limits.commandsPerWindow',
      /between 2 and 120/,
    ],
    [
      'a reserve that leaves no commands',
      { limits: { heartbeatReserve: 120 } },
      'limits.heartbeatReserve',
      /< commandsPerWindow/,
    ],
    [
      'a zero frame cap',
      { limits: { maxFrameBytes: 0 } },
      'limits.maxFrameBytes',
      /between 65536 \(64 KiB\) and 1073741824 \(1 GiB\)/,
    ],
    [
      'a 2^53-byte frame cap',
      { limits: { maxFrameBytes: 2 ** 53 - 1 } },
      'limits.maxFrameBytes',
      /between 65536 \(64 KiB\) and 1073741824 \(1 GiB\)/,
    ],
    [
      'an inflate cap of 2 GiB',
      { limits: { maxInflatedBytes: 2 ** 31 } },
      'limits.maxInflatedBytes',
      /between 65536 \(64 KiB\) and 1073741824 \(1 GiB\)/,
    ],
    [
      'a send window of a day',
      { limits: { commandWindowMs: 86_400_000 } },
      'limits.commandWindowMs',
      /at most 3600000/,
    ],
    [
      'a presence window of a day',
      { limits: { presenceWindowMs: 86_400_000 } },
      'limits.presenceWindowMs',
      /at most 3600000/,
    ],
    [
      'a session id of 5000 characters',
      { session: { id: 'a'.repeat(5_000), sequence: 1, resumeUrl: '' } },
      'session.id',
      /at most 128 characters/,
    ],
    [
      'a session id with a newline',
      { session: { id: 'abc\ndef', sequence: 1, resumeUrl: '' } },
      'session.id',
      /printable ASCII/,
    ],
    ['a token of 300 characters', { token: 'x'.repeat(300) }, 'token', /at most 256 characters/],
    [
      'bad presence status',
      { presence: { status: 'away' } },
      'presence.status',
      /'online', 'dnd', 'idle', 'invisible', 'offline'/,
    ],
    [
      'activity type 6',
      { presence: { activities: [{ name: 'x', type: 6 }] } },
      'presence.activities[0].type',
      /activity type 0-5/,
    ],
    [
      'activity without name',
      { presence: { activities: [{ type: 0 }] } },
      'presence.activities[0].name',
      /non-empty string/,
    ],
    [
      'activity not an object',
      { presence: { activities: ['x'] } },
      'presence.activities[0]',
      /must be an object/,
    ],
    [
      'activities not an array',
      { presence: { activities: {} } },
      'presence.activities',
      /array of activities/,
    ],
    [
      'since as a string',
      { presence: { since: 'now' } },
      'presence.since',
      /unix time in milliseconds or null/,
    ],
    ['afk as a string', { presence: { afk: 'no' } }, 'presence.afk', /boolean/],
    [
      'identifyProperties.os a number',
      { identifyProperties: { os: 5 } },
      'identifyProperties.os',
      /non-empty string/,
    ],
    ['eventTypes a number', { eventTypes: 5 }, 'eventTypes', /EventTypeFlags bigint/],
    [
      'eventTypes with unknown bits',
      { eventTypes: 1n << 500n },
      'eventTypes',
      /EventTypeFlags bigint/,
    ],
    [
      'session without id',
      { session: { sequence: 1, resumeUrl: 'wss://g.discord.gg' } },
      'session.id',
      /non-empty string/,
    ],
    [
      'session with a negative sequence',
      { session: { id: 'a', sequence: -1, resumeUrl: 'wss://g.discord.gg' } },
      'session.sequence',
      /integer >= 0/,
    ],
    [
      'session resume URL with a fragment',
      { session: { id: 'a', sequence: 1, resumeUrl: 'wss://g.discord.gg/x#y' } },
      'session.resumeUrl',
      /no fragment/,
    ],
    [
      'session resume URL on a host the token may not go to',
      { session: { id: 'a', sequence: 1, resumeUrl: 'wss://attacker.example' } },
      'session.resumeUrl',
      /under its parent domain \(or a host listed in trustedResumeHosts\)/,
    ],
    [
      'session resume URL ws: to a remote host',
      { session: { id: 'a', sequence: 1, resumeUrl: 'ws://g.discord.gg' } },
      'session.resumeUrl',
      /ws: only for a loopback host/,
    ],
    ['empty recordTo', { recordTo: '' }, 'recordTo', /non-empty file path/],
    ['bufferSize 0', { bufferSize: 0 }, 'bufferSize', /between 1 and 1000000/],
    ['bufferSize of 2^40', { bufferSize: 2 ** 40 }, 'bufferSize', /between 1 and 1000000/],
    ['an unknown key', { shardCont: 2 }, 'shardCont', /not a known option/],
    [
      'an unknown nested key',
      { timeouts: { readyMS: 1 } },
      'timeouts.readyMS',
      /not a known option/,
    ],
    [
      'an unknown key in an activity',
      { presence: { activities: [{ name: 'x', type: 0, emoji: 'x' }] } },
      'presence.activities[0].emoji',
      /not a known option/,
    ],
    ['a key named like an Object method', { toString: 1 }, 'toString', /not a known option/],
    ['a constructor key', { constructor: 1 }, 'constructor', /not a known option/],
  ])('%s', (_name, overrides, path, rule) => {
    const issues = shardIssues(overrides);
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe(path);
    expect(issues[0].rule).toMatch(rule);
  });

  it('rejects a __proto__ key from parsed JSON', () => {
    const input = JSON.parse(
      `{"token":"${TOKEN}","intents":1,"__proto__":{"x":1}}`,
    ) as ShardOptions;
    expect(issuesOf(() => normalizeShardOptions(input))).toEqual([
      { path: '__proto__', rule: 'is not a known option' },
    ]);
  });

  it.each([null, 'token', 42, []])('rejects options that are not an object (%p)', (input) => {
    expect(issuesOf(() => normalizeShardOptions(input as unknown as ShardOptions))).toEqual([
      { path: 'options', rule: 'must be an object' },
    ]);
  });

  it.each(['ws://127.0.0.1:8080', 'ws://127.3.2.1', 'ws://localhost:9000/', 'ws://[::1]:9000'])(
    'accepts ws: to the loopback host %s',
    (gatewayUrl) => {
      expect(normalizeShardOptions({ ...base, gatewayUrl }).gatewayUrl).toBe(
        gatewayUrl.replace(/\/$/, ''),
      );
    },
  );

  it('accepts ws: to any host with allowInsecureGateway, also for the session resume URL', () => {
    const config = normalizeShardOptions({
      ...base,
      allowInsecureGateway: true,
      gatewayUrl: 'ws://gateway.example.com',
      session: { id: 'a', sequence: 1, resumeUrl: 'ws://resume.example.com' },
    });
    expect(config.gatewayUrl).toBe('ws://gateway.example.com');
    expect(config.session?.resumeUrl).toBe('ws://resume.example.com');
  });

  it("GW-URL-4: a session's resume URL '' (none) is accepted: the RESUME goes through the gateway URL", () => {
    const config = normalizeShardOptions({
      ...base,
      session: { id: 'a', sequence: 1, resumeUrl: '' },
    });
    expect(config.session).toEqual({ id: 'a', sequence: 1, resumeUrl: '' });
  });

  it('GW-URL-4: a session resume URL may not downgrade the wss: gateway URL to ws:, loopback included', () => {
    expect(
      shardIssues({ session: { id: 'a', sequence: 1, resumeUrl: 'ws://127.0.0.1:47112' } }),
    ).toEqual([
      {
        path: 'session.resumeUrl',
        rule: 'must be wss: like the gateway URL (no downgrade to ws:)',
      },
    ]);
    // Against a loopback ws: gateway (a local test gateway), a loopback ws: resume URL is fine.
    const local = normalizeShardOptions({
      ...base,
      gatewayUrl: 'ws://127.0.0.1:4000',
      session: { id: 'a', sequence: 1, resumeUrl: 'ws://127.0.0.1:47112' },
    });
    expect(local.session?.resumeUrl).toBe('ws://127.0.0.1:47112');
  });
});

describe('normalizeShardOptions: every problem at once, no value echoed (issue 6)', () => {
  it('lists every problem, nested ones included, in one ConfigError', () => {
    const marker = 'VALUE-MARKER-7f3a';
    let error: ConfigError | undefined;
    try {
      normalizeShardOptions({
        token: `Bot Bot ${marker}`,
        intents: [`${marker}`, 'Guilds', 'a.b.c'],
        largeThreshold: 10,
        shardId: 4,
        shardCount: 2,
        gatewayUrl: `ws://${marker}.example.com`,
        compression: marker,
        encoding: marker,
        timeouts: { connectMs: -1, [marker]: marker },
        presence: { status: marker, activities: [{ name: marker, type: 9 }] },
        session: { id: marker, sequence: 1, resumeUrl: `https://${marker}.example.com` },
        limits: { commandsPerWindow: 500 },
        unknownOption: marker,
      } as unknown as ShardOptions);
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(new Set(error!.issues.map((issue) => issue.path))).toEqual(
      new Set([
        'unknownOption',
        'token',
        'intents[0]',
        'intents[2]',
        'largeThreshold',
        'shardId',
        'gatewayUrl',
        'compression',
        'encoding',
        `timeouts.${marker}`,
        'timeouts.connectMs',
        'presence.status',
        'presence.activities[0].type',
        'session.resumeUrl',
        'limits.commandsPerWindow',
      ]),
    );
    expect(error!.message).toContain(`(${error!.issues.length} problems)`);
    for (const issue of error!.issues)
      expect(error!.message).toContain(`${issue.path}: ${issue.rule}`);
    // Keys are named (they are the option's path); values never are.
    const rules = JSON.stringify(error!.issues.map((issue) => issue.rule));
    expect(rules).not.toContain(marker);
    expect(error!.message.replace(`timeouts.${marker}`, '')).not.toContain(marker);
  });
});
