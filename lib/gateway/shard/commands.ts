import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  GatewayOpcodes,
  type GatewayRequestChannelInfo,
  type GatewayRequestChannelInfoData,
  type GatewayRequestGuildMembers,
  type GatewayRequestGuildMembersData,
  type GatewayRequestSoundboardSounds,
  type GatewayRequestSoundboardSoundsData,
  type GatewayUpdatePresence,
  type GatewayVoiceStateUpdate,
  type GatewayVoiceStateUpdateData,
} from 'discord-api-types/v10';
import { CommandError, PayloadTooLargeError, type ConfigIssue } from '../errors/index.js';
import { VALIDATOR_OPTIONS, toPresence } from '../config/normalize.js';
import {
  All,
  Bool,
  Optional,
  Rule,
  Snowflake,
  droppedKeys,
  isInteger,
  isSnowflake,
  toIssues,
} from '../config/rules.js';
import { PresenceSchema } from '../config/schema.js';
import type { PresenceInput } from '../config/options.js';

/*
 * Send commands (docs/protocol.md section 15): validation and payload building. Every builder
 * returns a fresh `{ op, d }` holding only documented fields, or throws CommandError listing
 * every problem of the input (field path and rule, never a value).
 */

/** Largest payload the gateway accepts, in bytes (GW-ENV-4, GW-GT-15); larger gets 4002. */
export const MAX_PAYLOAD_BYTES = 4096;

/** Largest Request Guild Members nonce, in UTF-8 bytes (GW-GT-19). */
export const MAX_NONCE_BYTES = 32;

/** At most this many `user_ids` per Request Guild Members (section 15). */
export const MAX_USER_IDS = 100;

/** Any payload a user may send: an opcode and its data. */
export interface GatewayCommand {
  op: number;
  d: unknown;
}

/** Turns a payload into a frame; the codec's `PayloadEncoding` satisfies it. */
export interface PayloadEncoder {
  encode(payload: unknown): string | Buffer;
}

const JSON_ENCODER: PayloadEncoder = { encode: (payload) => JSON.stringify(payload) };

const UNKNOWN_FIELD = 'is not a known field';

const has = (args: { object: object }, key: string): boolean =>
  (args.object as Record<string, unknown>)[key] !== undefined;

class UpdateVoiceStateSchema {
  @Snowflake()
  guild_id!: string;

  @Rule(
    'channelId',
    'must be a snowflake, or null to leave the voice channel',
    (v) => v === null || isSnowflake(v),
  )
  channel_id!: string | null;

  @All(Optional(), Bool())
  self_mute?: boolean;

  @All(Optional(), Bool())
  self_deaf?: boolean;
}

class RequestGuildMembersSchema {
  @Snowflake()
  guild_id!: string;

  // Exactly one of query and user_ids (section 15); the issue is reported here.
  @Rule(
    'query',
    (args) =>
      args.value === undefined
        ? 'or user_ids is required'
        : typeof args.value !== 'string'
          ? 'must be a string (a username prefix, "" for all members)'
          : 'must not be given together with user_ids',
    (v, args) =>
      v === undefined ? has(args, 'user_ids') : typeof v === 'string' && !has(args, 'user_ids'),
  )
  query?: string;

  @Rule(
    'limit',
    (args) =>
      has(args, 'query')
        ? 'must be an integer >= 0 (required with query; 0 with query "" means all members)'
        : 'is only used with query',
    (v, args) => (has(args, 'query') ? isInteger(v) && v >= 0 : v === undefined),
  )
  limit?: number;

  @All(
    Optional(),
    Rule(
      'userIds',
      `must be a snowflake or an array of 1 to ${MAX_USER_IDS} snowflakes`,
      (v) =>
        isSnowflake(v) ||
        (Array.isArray(v) && v.length > 0 && v.length <= MAX_USER_IDS && v.every(isSnowflake)),
    ),
  )
  user_ids?: string | string[];

  @All(Optional(), Bool())
  presences?: boolean;

  @All(
    Optional(),
    Rule(
      'nonce',
      `must be a string of at most ${MAX_NONCE_BYTES} bytes in UTF-8`,
      (v) => typeof v === 'string' && Buffer.byteLength(v, 'utf8') <= MAX_NONCE_BYTES,
    ),
  )
  nonce?: string;
}

class RequestSoundboardSoundsSchema {
  @Rule(
    'guildIds',
    `must be a non-empty array of snowflakes`,
    (v) => Array.isArray(v) && v.length > 0 && v.every(isSnowflake),
  )
  guild_ids!: string[];
}

const CHANNEL_INFO_FIELDS: readonly string[] = ['status', 'voice_start_time'];

class RequestChannelInfoSchema {
  @Snowflake()
  guild_id!: string;

  @Rule(
    'fields',
    `must be a non-empty array of distinct names out of 'status', 'voice_start_time'`,
    (v) =>
      Array.isArray(v) &&
      v.length > 0 &&
      new Set(v).size === v.length &&
      v.every((name) => CHANNEL_INFO_FIELDS.includes(name as string)),
  )
  fields!: string[];
}

function check<T extends object>(op: number, schema: new () => T, d: unknown): T {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) {
    throw new CommandError(op, [{ path: 'd', rule: 'must be an object' }]);
  }
  if (hasCycle(d)) {
    throw new CommandError(op, [{ path: 'd', rule: 'must not contain a circular reference' }]);
  }
  const instance = plainToInstance(schema, d);
  const issues = toIssues(validateSync(instance, VALIDATOR_OPTIONS), UNKNOWN_FIELD);
  droppedKeys(d, instance, UNKNOWN_FIELD, '', issues);
  if (issues.length > 0) throw new CommandError(op, issues);
  return instance;
}

/**
 * Update Presence (op 3). Absent fields default to `since: null`, `activities: []`,
 * `status: 'online'`, `afk: false`. Bots may set activity `name`, `type` (0-5), `url`, `state`.
 * The shard also paces these at 5 per 20 s (GW-RL-4).
 *
 * @throws CommandError listing every problem.
 */
export function buildUpdatePresence(d: PresenceInput): GatewayUpdatePresence {
  return { op: GatewayOpcodes.PresenceUpdate, d: toPresence(check(3, PresenceSchema, d)) };
}

/**
 * Update Voice State (op 4). `channel_id: null` leaves the channel; `self_mute` and
 * `self_deaf` default to false.
 *
 * @throws CommandError listing every problem.
 */
export function buildUpdateVoiceState(
  d: Omit<GatewayVoiceStateUpdateData, 'self_mute' | 'self_deaf'> &
    Partial<Pick<GatewayVoiceStateUpdateData, 'self_mute' | 'self_deaf'>>,
): GatewayVoiceStateUpdate {
  const valid = check(4, UpdateVoiceStateSchema, d);
  return {
    op: GatewayOpcodes.VoiceStateUpdate,
    d: {
      guild_id: valid.guild_id,
      channel_id: valid.channel_id,
      self_mute: valid.self_mute ?? false,
      self_deaf: valid.self_deaf ?? false,
    },
  };
}

/**
 * Request Guild Members (op 8, GW-GT-19): `guild_id`; either `query` (with `limit`; `""` and
 * 0 ask for every member, GW-RL-5) or `user_ids` (one id or 1-100 ids); optional `presences`
 * and `nonce` (at most 32 bytes of UTF-8).
 *
 * @throws CommandError listing every problem.
 */
export function buildRequestGuildMembers(
  d: GatewayRequestGuildMembersData,
): GatewayRequestGuildMembers {
  const valid = check(8, RequestGuildMembersSchema, d);
  const common = {
    guild_id: valid.guild_id,
    ...(valid.presences !== undefined && { presences: valid.presences }),
    ...(valid.nonce !== undefined && { nonce: valid.nonce }),
  };
  return {
    op: GatewayOpcodes.RequestGuildMembers,
    d:
      valid.query !== undefined
        ? { ...common, query: valid.query, limit: valid.limit! }
        : {
            ...common,
            user_ids: Array.isArray(valid.user_ids) ? [...valid.user_ids] : valid.user_ids!,
          },
  };
}

/**
 * Request Soundboard Sounds (op 31): one SOUNDBOARD_SOUNDS dispatch answers per guild.
 *
 * @throws CommandError listing every problem.
 */
export function buildRequestSoundboardSounds(
  d: GatewayRequestSoundboardSoundsData,
): GatewayRequestSoundboardSounds {
  const valid = check(31, RequestSoundboardSoundsSchema, d);
  return { op: GatewayOpcodes.RequestSoundboardSounds, d: { guild_ids: [...valid.guild_ids] } };
}

/**
 * Request Channel Info (op 43): `fields` out of `'status'` and `'voice_start_time'`; a
 * CHANNEL_INFO dispatch answers.
 *
 * @throws CommandError listing every problem.
 */
export function buildRequestChannelInfo(
  d: GatewayRequestChannelInfoData,
): GatewayRequestChannelInfo {
  const valid = check(43, RequestChannelInfoSchema, d);
  return {
    op: GatewayOpcodes.RequestChannelInfo,
    d: { guild_id: valid.guild_id, fields: [...valid.fields] },
  };
}

/** Opcodes the shard sends itself; a user sending them would break the session (GW-ID-1). */
const SHARD_OWNED: ReadonlySet<number> = new Set([
  GatewayOpcodes.Heartbeat,
  GatewayOpcodes.Identify,
  GatewayOpcodes.Resume,
]);

/** Opcodes only the server sends (section 3). */
const RECEIVE_ONLY: ReadonlySet<number> = new Set([
  GatewayOpcodes.Dispatch,
  GatewayOpcodes.Reconnect,
  GatewayOpcodes.InvalidSession,
  GatewayOpcodes.Hello,
  GatewayOpcodes.HeartbeatAck,
]);

const TYPED: ReadonlyMap<number, (d: never) => GatewayCommand> = new Map<
  number,
  (d: never) => GatewayCommand
>([
  [GatewayOpcodes.PresenceUpdate, buildUpdatePresence],
  [GatewayOpcodes.VoiceStateUpdate, buildUpdateVoiceState],
  [GatewayOpcodes.RequestGuildMembers, buildRequestGuildMembers],
  [GatewayOpcodes.RequestSoundboardSounds, buildRequestSoundboardSounds],
  [GatewayOpcodes.RequestChannelInfo, buildRequestChannelInfo],
]);

/**
 * The raw send path: `{ op, d }` with an integer `op`. Documented commands (3, 4, 8, 31, 43)
 * are validated and built as by their builders; opcodes the shard owns (1, 2, 6) and
 * receive-only opcodes (0, 7, 9, 10, 11) are refused; other opcodes pass with their `d`
 * (`undefined` becomes `null`) so newer commands stay usable.
 *
 * @throws CommandError listing every problem (op -1 when the opcode itself is not an integer).
 */
export function buildCommand(payload: GatewayCommand): GatewayCommand {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new CommandError(-1, [{ path: 'payload', rule: 'must be an object { op, d }' }]);
  }
  const { op, d } = payload;
  const issues: ConfigIssue[] = [];
  for (const key of Object.keys(payload)) {
    if (key !== 'op' && key !== 'd')
      issues.push({ path: key, rule: `${UNKNOWN_FIELD} (a payload is { op, d })` });
  }
  if (!isInteger(op) || op < 0) {
    throw new CommandError(-1, [{ path: 'op', rule: 'must be an integer opcode' }, ...issues]);
  }
  if (SHARD_OWNED.has(op))
    issues.push({ path: 'op', rule: 'is sent by the shard itself (heartbeat, identify, resume)' });
  if (RECEIVE_ONLY.has(op)) issues.push({ path: 'op', rule: 'is a receive-only opcode' });
  if (issues.length > 0) throw new CommandError(op, issues);
  const build = TYPED.get(op);
  return build !== undefined ? build(d as never) : { op, d: d === undefined ? null : d };
}

/**
 * Encodes a payload (JSON unless an encoder is given) and checks its size in bytes, not
 * characters: a string is measured as UTF-8 (GW-ENV-4, GW-GT-15).
 *
 * @returns the frame to hand to the socket.
 * @throws PayloadTooLargeError over {@link MAX_PAYLOAD_BYTES}; CommandError when `d` cannot be
 *   encoded (a bigint, a cycle).
 */
export function serializePayload(
  payload: GatewayCommand,
  encoding: PayloadEncoder = JSON_ENCODER,
): string | Buffer {
  let frame: string | Buffer;
  try {
    frame = encoding.encode(payload);
  } catch {
    throw new CommandError(payload.op, [
      { path: 'd', rule: 'must be encodable (no bigint, function or circular reference)' },
    ]);
  }
  // A UTF-16 code unit takes at most 3 UTF-8 bytes, so short strings need no measuring.
  const size =
    typeof frame === 'string'
      ? frame.length * 3 <= MAX_PAYLOAD_BYTES
        ? frame.length
        : Buffer.byteLength(frame, 'utf8')
      : frame.byteLength;
  if (size > MAX_PAYLOAD_BYTES) throw new PayloadTooLargeError(payload.op, size);
  return frame;
}

/** Whether `value` reaches itself (validation and encoding would both recurse forever). */
function hasCycle(value: unknown, ancestors: object[] = []): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (ancestors.includes(value)) return true;
  ancestors.push(value);
  for (const child of Object.values(value)) if (hasCycle(child, ancestors)) return true;
  ancestors.pop();
  return false;
}
