import { inspect } from 'node:util';
import { ConfigError } from '../../../lib/gateway/errors/index.js';
import {
  Token,
  normalizeClusterOptions,
  normalizeShardOptions,
  shardOptionsFor,
  type ShardOptions,
} from '../../../lib/gateway/config/index.js';

/** A token-shaped marker: any output that contains MARKER leaked it. */
const MARKER = 'MARKER-TOKEN-c0ffee';
const TOKEN = `NzkyNzE1NDU0MTk2MDg4ODQy.${MARKER}.abc_def-ghi`;

/** Every way a value commonly ends up in a log line or a crash report. */
function renderings(value: unknown): string[] {
  return [
    inspect(value),
    inspect(value, { depth: Infinity, showHidden: true }),
    inspect(value, { depth: Infinity, showHidden: true, customInspect: false }),
    JSON.stringify(value, (_key, item: unknown) =>
      typeof item === 'bigint' ? item.toString() : item,
    ) ?? '',
    String(value),
    `${value as string}`,
  ];
}

function expectNoMarker(value: unknown): void {
  for (const text of renderings(value)) expect(text).not.toContain(MARKER);
}

describe('Token: the token never leaks (issue 2, issue 6 Security)', () => {
  it('reveal() gives the raw token; everything else gives [redacted]', () => {
    const token = new Token(TOKEN);
    expect(token.reveal()).toBe(TOKEN);
    expect(String(token)).toBe('[redacted]');
    expect(`${token}`).toBe('[redacted]');
    expect(token + '').toBe('[redacted]');
    expect(JSON.stringify({ token })).toBe('{"token":"[redacted]"}');
    expect(inspect(token)).toBe('[redacted]');
    expect(Object.getOwnPropertyNames(token)).toEqual([]);
    expectNoMarker(token);
    expectNoMarker(structuredClone(token));
  });

  it('a normalized shard config does not contain the token in any rendering', () => {
    const config = normalizeShardOptions({ token: `Bot ${TOKEN}`, intents: 1 });
    expect(config.token.reveal()).toBe(TOKEN);
    expectNoMarker(config);
    expectNoMarker({ nested: { deeper: [config] } });
  });

  it('a normalized cluster config, and the shard options derived from it, do not either', () => {
    const config = normalizeClusterOptions({
      token: TOKEN,
      intents: 1,
      shards: { from: 0, to: 1, shardCount: 2 },
    });
    expectNoMarker(config);
    const options = shardOptionsFor(config, 1, 2);
    expectNoMarker(options);
    expect(normalizeShardOptions(options).token.reveal()).toBe(TOKEN);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a valid token beside other bad options', { token: TOKEN, largeThreshold: 1 }],
    ['two Bot prefixes', { token: `Bot Bot ${TOKEN}` }],
    ['a trailing newline', { token: `${TOKEN}\n` }],
    ['inner whitespace', { token: `${TOKEN} x` }],
    ['a Bearer prefix', { token: `Bearer ${TOKEN}` }],
    ['the token as an intent name', { token: TOKEN, intents: [TOKEN] }],
    ['the token as intents', { token: TOKEN, intents: TOKEN }],
    ['the token in the gateway URL', { token: TOKEN, gatewayUrl: `ws://${MARKER}.example.com` }],
    ['the token as an unknown option value', { token: TOKEN, tokn: TOKEN }],
    ['the token as a presence status', { token: TOKEN, presence: { status: TOKEN } }],
    [
      'the token as a session id beside a bad sequence',
      { token: TOKEN, session: { id: TOKEN, sequence: -1, resumeUrl: 'wss://x.example' } },
    ],
  ])('ConfigError for %s never contains it', (_name, overrides) => {
    let error: unknown;
    try {
      normalizeShardOptions({ intents: 1, ...overrides } as unknown as ShardOptions);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.message).not.toContain(MARKER);
    expect(configError.stack ?? '').not.toContain(MARKER);
    expect(JSON.stringify(configError.issues)).not.toContain(MARKER);
    expectNoMarker(configError);
  });
});

describe('Token: an OAuth2 "Bearer " token is named as such', () => {
  /** The ConfigError `token` gets, as its issues. */
  function issuesFor(token: string): ConfigError['issues'] {
    try {
      normalizeShardOptions({ token, intents: 1 });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).issues;
    }
    throw new Error('the token was accepted');
  }

  it.each([
    ['Bearer abc.def.ghi', 'Bearer abc.def.ghi'],
    ['lower case, after a Bot prefix', `Bot bearer ${TOKEN}`],
    ['a tab after Bearer', `Bearer\t${TOKEN}`],
  ])('%s: one issue on token saying a bot token is needed, no whitespace hint', (_name, token) => {
    const issues = issuesFor(token);
    expect(issues).toEqual([
      {
        path: 'token',
        rule: 'must be the bot token (optionally prefixed "Bot "), not a "Bearer " OAuth2 access token',
      },
    ]);
    expect(JSON.stringify(issues)).not.toContain('whitespace');
    expect(JSON.stringify(issues)).not.toContain('abc.def');
    expect(JSON.stringify(issues)).not.toContain(MARKER);
  });

  it('a token that merely starts with the letters "Bearer" is a token like any other', () => {
    const config = normalizeShardOptions({ token: `Bearer${TOKEN}`, intents: 1 });
    expect(config.token.reveal()).toBe(`Bearer${TOKEN}`);
  });
});
