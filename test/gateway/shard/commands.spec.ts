import { GatewayOpcodes } from 'discord-api-types/v10';
import { CommandError, PayloadTooLargeError } from '../../../lib/gateway/errors/index.js';
import {
  MAX_PAYLOAD_BYTES,
  buildCommand,
  buildRequestChannelInfo,
  buildRequestGuildMembers,
  buildRequestSoundboardSounds,
  buildUpdatePresence,
  buildUpdateVoiceState,
  serializePayload,
  type GatewayCommand,
} from '../../../lib/gateway/shard/commands.js';
import { describeWithFixtures, loadFixture } from '../../support/fixtures.js';

const GUILD = '197038439483310086';
const USER = '80351110224678912';

/** The issues of the CommandError `fn` throws. */
function issuesOf(fn: () => unknown, op?: number): { path: string; rule: string }[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).code).toBe('COMMAND_INVALID');
    if (op !== undefined) expect((error as CommandError).op).toBe(op);
    return [...(error as CommandError).issues];
  }
  throw new Error('expected a CommandError');
}

describeWithFixtures('send command fixtures (docs/protocol.md section 15)', () => {
  it.each<[string, (d: never) => GatewayCommand]>([
    ['UPDATE_PRESENCE.json', buildUpdatePresence],
    ['UPDATE_VOICE_STATE.json', buildUpdateVoiceState],
    ['REQUEST_GUILD_MEMBERS.json', buildRequestGuildMembers],
    ['REQUEST_GUILD_MEMBERS.user_ids.json', buildRequestGuildMembers],
    ['REQUEST_SOUNDBOARD_SOUNDS.json', buildRequestSoundboardSounds],
    ['REQUEST_CHANNEL_INFO.json', buildRequestChannelInfo],
  ])(
    '%s: the builder and the raw path rebuild it exactly, and it serializes within 4096 bytes',
    (name, build) => {
      const fixture = loadFixture(name) as GatewayCommand;
      expect(build(fixture.d as never)).toEqual(fixture);
      expect(buildCommand(fixture)).toEqual(fixture);
      expect(JSON.parse(serializePayload(buildCommand(fixture)) as string)).toEqual(fixture);
    },
  );
});

describe('UpdatePresence (op 3)', () => {
  it('fills absent fields: online, no activity, not idle, not afk', () => {
    expect(buildUpdatePresence({})).toEqual({
      op: GatewayOpcodes.PresenceUpdate,
      d: { since: null, activities: [], status: 'online', afk: false },
    });
  });

  it('keeps url and state of an activity', () => {
    const d = {
      activities: [{ name: 'stream', type: 1, url: 'https://twitch.tv/x', state: 'live' }],
      status: 'idle' as const,
      since: 91_879_201,
      afk: true,
    };
    expect(buildUpdatePresence(d).d).toEqual(d);
  });

  it('lists every problem of a bad presence', () => {
    const issues = issuesOf(
      () =>
        buildUpdatePresence({
          status: 'away',
          since: -1,
          afk: 'no',
          activities: [{ type: 7 }, { name: 'x', type: 0, emoji: '?' }],
          game: 'x',
        } as never),
      3,
    );
    expect(new Set(issues.map((issue) => issue.path))).toEqual(
      new Set([
        'game',
        'status',
        'since',
        'afk',
        'activities[0].name',
        'activities[0].type',
        'activities[1].emoji',
      ]),
    );
  });
});

describe('UpdateVoiceState (op 4)', () => {
  it('joins a channel; self_mute and self_deaf default to false', () => {
    expect(buildUpdateVoiceState({ guild_id: GUILD, channel_id: '127121515262115840' })).toEqual({
      op: GatewayOpcodes.VoiceStateUpdate,
      d: { guild_id: GUILD, channel_id: '127121515262115840', self_mute: false, self_deaf: false },
    });
  });

  it('channel_id null leaves the channel', () => {
    expect(buildUpdateVoiceState({ guild_id: GUILD, channel_id: null, self_deaf: true }).d).toEqual(
      {
        guild_id: GUILD,
        channel_id: null,
        self_mute: false,
        self_deaf: true,
      },
    );
  });

  it('requires channel_id and checks every field', () => {
    const issues = issuesOf(
      () => buildUpdateVoiceState({ guild_id: 42, self_mute: 'yes' } as never),
      4,
    );
    expect(issues.map((issue) => issue.path).sort()).toEqual([
      'channel_id',
      'guild_id',
      'self_mute',
    ]);
  });
});

describe('RequestGuildMembers (op 8, GW-GT-19)', () => {
  it('query "" with limit 0 asks for every member (GW-RL-5)', () => {
    expect(buildRequestGuildMembers({ guild_id: GUILD, query: '', limit: 0 })).toEqual({
      op: GatewayOpcodes.RequestGuildMembers,
      d: { guild_id: GUILD, query: '', limit: 0 },
    });
  });

  it('accepts one user id or up to 100, presences and a nonce of exactly 32 bytes', () => {
    const nonce = '€'.repeat(10) + 'ab'; // 10 x 3 + 2 = 32 bytes
    const ids = Array.from({ length: 100 }, (_, i) => String(80351110224678912n + BigInt(i)));
    expect(buildRequestGuildMembers({ guild_id: GUILD, user_ids: USER, nonce }).d).toEqual({
      guild_id: GUILD,
      user_ids: USER,
      nonce,
    });
    expect(buildRequestGuildMembers({ guild_id: GUILD, user_ids: ids, presences: true }).d).toEqual(
      {
        guild_id: GUILD,
        user_ids: ids,
        presences: true,
      },
    );
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['no guild_id', { query: '', limit: 0 }, 'guild_id', /snowflake/],
    [
      'a numeric guild_id',
      { guild_id: Number(GUILD), query: '', limit: 0 },
      'guild_id',
      /snowflake/,
    ],
    [
      'a guild_id over 64 bits',
      { guild_id: '18446744073709551616', query: '', limit: 0 },
      'guild_id',
      /snowflake/,
    ],
    ['neither query nor user_ids', { guild_id: GUILD }, 'query', /or user_ids is required/],
    [
      'query and user_ids',
      { guild_id: GUILD, query: 'a', limit: 1, user_ids: [USER] },
      'query',
      /not be given together with user_ids/,
    ],
    ['query without limit', { guild_id: GUILD, query: 'a' }, 'limit', /required with query/],
    ['a negative limit', { guild_id: GUILD, query: 'a', limit: -1 }, 'limit', /integer >= 0/],
    [
      'limit with user_ids',
      { guild_id: GUILD, user_ids: [USER], limit: 5 },
      'limit',
      /only used with query/,
    ],
    [
      'a query that is not a string',
      { guild_id: GUILD, query: 5, limit: 1 },
      'query',
      /must be a string/,
    ],
    ['empty user_ids', { guild_id: GUILD, user_ids: [] }, 'user_ids', /1 to 100 snowflakes/],
    [
      '101 user_ids',
      { guild_id: GUILD, user_ids: Array(101).fill(USER) },
      'user_ids',
      /1 to 100 snowflakes/,
    ],
    [
      'a user id that is not a snowflake',
      { guild_id: GUILD, user_ids: [USER, 'me'] },
      'user_ids',
      /snowflake/,
    ],
    [
      'presences not a boolean',
      { guild_id: GUILD, user_ids: USER, presences: 1 },
      'presences',
      /boolean/,
    ],
    [
      'a 33-byte ASCII nonce',
      { guild_id: GUILD, user_ids: USER, nonce: 'n'.repeat(33) },
      'nonce',
      /at most 32 bytes/,
    ],
    [
      'an 11-character nonce of 33 bytes',
      { guild_id: GUILD, user_ids: USER, nonce: '€'.repeat(11) },
      'nonce',
      /at most 32 bytes/,
    ],
    [
      'a nonce that is not a string',
      { guild_id: GUILD, user_ids: USER, nonce: 5 },
      'nonce',
      /string/,
    ],
    [
      'an unknown field',
      { guild_id: GUILD, user_ids: USER, userIds: [USER] },
      'userIds',
      /not a known field/,
    ],
  ])('refuses %s', (_name, d, path, rule) => {
    const issues = issuesOf(() => buildRequestGuildMembers(d as never), 8);
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe(path);
    expect(issues[0].rule).toMatch(rule);
  });

  it('lists every problem at once and never the values', () => {
    const secret = 'VALUE-MARKER-123';
    let error: CommandError | undefined;
    try {
      buildRequestGuildMembers({
        guild_id: secret,
        query: 7,
        nonce: secret.repeat(3),
        extra: secret,
      } as never);
    } catch (caught) {
      error = caught as CommandError;
    }
    expect(error).toBeInstanceOf(CommandError);
    expect(error!.issues.map((issue) => issue.path).sort()).toEqual([
      'extra',
      'guild_id',
      'limit',
      'nonce',
      'query',
    ]);
    expect(error!.message).not.toContain(secret);
  });
});

describe('RequestSoundboardSounds (op 31) and RequestChannelInfo (op 43)', () => {
  it('builds both', () => {
    expect(buildRequestSoundboardSounds({ guild_ids: [GUILD] })).toEqual({
      op: 31,
      d: { guild_ids: [GUILD] },
    });
    expect(buildRequestChannelInfo({ guild_id: GUILD, fields: ['status'] })).toEqual({
      op: 43,
      d: { guild_id: GUILD, fields: ['status'] },
    });
  });

  it.each<[string, unknown]>([
    ['an empty list', { guild_ids: [] }],
    ['a bad id', { guild_ids: [GUILD, 'x'] }],
    ['not a list', { guild_ids: GUILD }],
    ['no list', {}],
  ])('op 31 refuses %s', (_name, d) => {
    expect(issuesOf(() => buildRequestSoundboardSounds(d as never), 31)).toEqual([
      { path: 'guild_ids', rule: 'must be a non-empty array of snowflakes' },
    ]);
  });

  it.each<[string, unknown]>([
    ['an unknown field name', ['status', 'topic']],
    ['a repeated field', ['status', 'status']],
    ['no field', []],
    ['not a list', 'status'],
  ])('op 43 refuses %s', (_name, fields) => {
    const issues = issuesOf(
      () => buildRequestChannelInfo({ guild_id: GUILD, fields } as never),
      43,
    );
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe('fields');
  });

  it.each([null, 'x', [GUILD]])('refuses a d that is not an object (%p)', (d) => {
    expect(issuesOf(() => buildRequestChannelInfo(d as never), 43)).toEqual([
      { path: 'd', rule: 'must be an object' },
    ]);
  });
});

describe('buildCommand: the raw { op, d } path', () => {
  it('validates documented commands like their builders', () => {
    expect(buildCommand({ op: 8, d: { guild_id: GUILD, query: 'ab', limit: 10 } })).toEqual({
      op: 8,
      d: { guild_id: GUILD, query: 'ab', limit: 10 },
    });
    expect(issuesOf(() => buildCommand({ op: 8, d: { guild_id: GUILD } }), 8)[0].path).toBe(
      'query',
    );
  });

  it('refuses a circular d of a documented command with a CommandError, not a stack overflow', () => {
    const d: Record<string, unknown> = {
      since: null,
      activities: [],
      status: 'online',
      afk: false,
    };
    d.self = d;
    expect(issuesOf(() => buildCommand({ op: 3, d }), 3)).toEqual([
      { path: 'd', rule: 'must not contain a circular reference' },
    ]);
  });

  it('passes other opcodes with their d, undefined becoming null', () => {
    expect(buildCommand({ op: 99, d: { anything: [1, 2] } })).toEqual({
      op: 99,
      d: { anything: [1, 2] },
    });
    expect(buildCommand({ op: 99, d: undefined })).toEqual({ op: 99, d: null });
  });

  it.each<[string, unknown, number, RegExp]>([
    ['a non-integer op', { op: 1.5, d: null }, -1, /integer opcode/],
    ['a string op', { op: '8', d: null }, -1, /integer opcode/],
    ['a negative op', { op: -3, d: null }, -1, /integer opcode/],
    ['heartbeat (op 1), sent by the shard', { op: 1, d: 5 }, 1, /sent by the shard itself/],
    [
      'identify (op 2), sent by the shard (GW-ID-1)',
      { op: 2, d: {} },
      2,
      /sent by the shard itself/,
    ],
    ['resume (op 6), sent by the shard', { op: 6, d: {} }, 6, /sent by the shard itself/],
    ['a receive-only op (11)', { op: 11, d: null }, 11, /receive-only/],
    ['a receive-only op (0)', { op: 0, d: {} }, 0, /receive-only/],
    ['extra envelope keys', { op: 99, d: null, s: 1 }, 99, /a payload is \{ op, d \}/],
    ['a payload that is not an object', 'ping', -1, /must be an object/],
  ])('refuses %s', (_name, payload, op, rule) => {
    const issues = issuesOf(() => buildCommand(payload as GatewayCommand), op);
    expect(issues[0].rule).toMatch(rule);
  });
});

describe('serializePayload (GW-ENV-4, GW-GT-15)', () => {
  const withName = (name: string): GatewayCommand => ({
    op: 3,
    d: { activities: [{ name, type: 0 }] },
  });
  const overhead = JSON.stringify(withName('')).length;

  it('accepts exactly 4096 bytes and refuses 4097 with PayloadTooLargeError', () => {
    const fits = withName('x'.repeat(MAX_PAYLOAD_BYTES - overhead));
    expect((serializePayload(fits) as string).length).toBe(4096);
    let error: unknown;
    try {
      serializePayload(withName('x'.repeat(MAX_PAYLOAD_BYTES - overhead + 1)));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as PayloadTooLargeError).size).toBe(4097);
    expect((error as PayloadTooLargeError).op).toBe(3);
    expect((error as PayloadTooLargeError).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('measures UTF-8 bytes, not characters: 1 400 euro signs are 4 200 bytes', () => {
    const payload = withName('€'.repeat(1_400));
    expect(JSON.stringify(payload).length).toBeLessThan(MAX_PAYLOAD_BYTES);
    expect(() => serializePayload(payload)).toThrow(PayloadTooLargeError);
    try {
      serializePayload(payload);
    } catch (error) {
      expect((error as PayloadTooLargeError).size).toBe(Buffer.byteLength(JSON.stringify(payload)));
    }
  });

  it('GW-GT-15: a presence with many activities can exceed the limit; 100 user_ids fit', () => {
    const activities = Array.from({ length: 100 }, (_, i) => ({
      name: `activity number ${i} with a long name`,
      type: 0,
    }));
    expect(() => serializePayload(buildUpdatePresence({ activities }))).toThrow(
      PayloadTooLargeError,
    );
    const ids = Array.from({ length: 100 }, (_, i) => String(197038439483310086n + BigInt(i)));
    expect(() =>
      serializePayload(buildRequestGuildMembers({ guild_id: GUILD, user_ids: ids })),
    ).not.toThrow();
  });

  it('measures a Buffer frame by its byte length', () => {
    const encoder = { encode: (payload: unknown) => Buffer.alloc(payload === null ? 0 : 4_097) };
    expect(() => serializePayload({ op: 3, d: {} }, encoder)).toThrow(PayloadTooLargeError);
    expect(serializePayload({ op: 3, d: {} }, { encode: () => Buffer.alloc(4_096) })).toHaveLength(
      4_096,
    );
  });

  it('refuses what cannot be encoded with a CommandError, not a TypeError', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(issuesOf(() => serializePayload({ op: 99, d: 1n }), 99)[0].path).toBe('d');
    expect(issuesOf(() => serializePayload({ op: 99, d: cyclic }), 99)[0].path).toBe('d');
  });
});
