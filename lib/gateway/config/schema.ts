import type { ValidationArguments } from 'class-validator';
import { Allow, ValidateIf } from 'class-validator';
import { EventTypeFlags } from '../events/event-type-flags.js';
import { DEFAULTS, RANGES } from './defaults.js';
import {
  All,
  Bool,
  IntAtLeast,
  IntInRange,
  MarginMillis,
  Millis,
  Nested,
  NestedArray,
  NonEmptyString,
  OneOf,
  Opaque,
  Optional,
  Rule,
  checkApiUrl,
  checkGatewayUrl,
  checkSessionResumeUrl,
  isHostPattern,
  isInteger,
} from './rules.js';
import { MAX_RESUME_URL_LENGTH, sessionIdProblem } from '../session/session.js';
import { Token } from './token.js';

/*
 * The option classes class-validator checks. Fields are declared without initializers so an
 * absent option stays absent (whitelisting looks at own keys); defaults are filled in by
 * normalize.ts. Every class rejects keys it does not declare.
 */

const BOT_PREFIX = /^bot /i;
/** The prefix of an OAuth2 access token in an Authorization header, not of a bot token. */
const BEARER_PREFIX = /^bearer\s/i;
/**
 * Longest token accepted. Discord's are about 70 characters; the bound keeps IDENTIFY and
 * RESUME far below the gateway's 4096-byte payload limit.
 */
const MAX_TOKEN_LENGTH = 256;

/** The rule a token breaks (GW-GT-20), or `null`. Never includes the token. */
export function tokenProblem(value: unknown): string | null {
  if (value instanceof Token) return null;
  if (typeof value !== 'string' || value.length === 0)
    return 'must be a non-empty string (the bot token)';
  const raw = value.replace(BOT_PREFIX, '');
  if (raw.length === 0) return 'must contain the token after the "Bot " prefix';
  if (BOT_PREFIX.test(raw)) return 'must have at most one "Bot " prefix';
  if (BEARER_PREFIX.test(raw))
    return 'must be the bot token (optionally prefixed "Bot "), not a "Bearer " OAuth2 access token';
  if (/\s/.test(raw)) return 'must not contain whitespace (check for a trailing newline)';
  if (raw.length > MAX_TOKEN_LENGTH) return `must be at most ${MAX_TOKEN_LENGTH} characters`;
  return null;
}

/** A valid token option as a {@link Token}, without its `Bot ` prefix. */
export function toToken(value: string | Token): Token {
  return value instanceof Token ? value : new Token(value.replace(BOT_PREFIX, ''));
}

const field = <T>(args: ValidationArguments, key: string): T | undefined =>
  (args.object as Record<string, unknown>)[key] as T | undefined;

/** A sibling option to compare with, or `undefined` while it is invalid (reported on its own). */
const sibling = (args: ValidationArguments, key: string, min: number): number | undefined => {
  const value = field(args, key);
  return isInteger(value) && value >= min ? value : undefined;
};

const insecureAllowed = (args: ValidationArguments): boolean =>
  field(args, 'allowInsecureGateway') === true;

/** A URL judged by `check`; the rule text is the one `check` reports. */
function UrlRule(
  name: string,
  check: typeof checkGatewayUrl,
  allowInsecure: (args: ValidationArguments) => boolean,
): PropertyDecorator {
  return Rule(
    name,
    (args) => {
      const result = check(args.value, allowInsecure(args));
      return 'rule' in result ? result.rule : '';
    },
    (v, args) => 'url' in check(v, allowInsecure(args)),
  );
}

/** An activity a bot may set (docs/protocol.md section 15, op 3). */
export class ActivitySchema {
  @NonEmptyString()
  name!: string;

  @IntInRange(
    0,
    5,
    'must be an activity type 0-5 (Playing, Streaming, Listening, Watching, Custom, Competing)',
  )
  type!: number;

  @All(
    Optional(),
    Rule('nullableString', 'must be a string or null', (v) => v === null || typeof v === 'string'),
  )
  url?: string | null;

  @All(
    Optional(),
    Rule('nullableString', 'must be a string or null', (v) => v === null || typeof v === 'string'),
  )
  state?: string | null;
}

/** A presence (op 3 `d`, also IDENTIFY `presence`); absent fields get defaults. */
export class PresenceSchema {
  @All(
    Optional(),
    Rule(
      'since',
      'must be a unix time in milliseconds or null',
      (v) => v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0),
    ),
  )
  since?: number | null;

  @All(Optional(), NestedArray(ActivitySchema, 'must be an array of activities'))
  activities?: ActivitySchema[];

  @All(Optional(), OneOf(['online', 'dnd', 'idle', 'invisible', 'offline']))
  status?: string;

  @All(Optional(), Bool())
  afk?: boolean;
}

/** A shard count: 1 to {@link RANGES.maxShardCount}. */
function ShardCount(): PropertyDecorator {
  return IntInRange(1, RANGES.maxShardCount);
}

/** At least the sibling option `key` (its default when absent); skipped while that one is invalid. */
function AtLeastSibling(key: string, fallback: number): PropertyDecorator {
  return Rule('atLeastSibling', `must be >= ${key}`, (v, args) => {
    const other = field(args, key) ?? fallback;
    return !isInteger(other) || (v as number) >= other;
  });
}

class IdentifyPropertiesSchema {
  @All(Optional(), NonEmptyString())
  os?: string;

  @All(Optional(), NonEmptyString())
  browser?: string;

  @All(Optional(), NonEmptyString())
  device?: string;
}

class TimeoutsSchema {
  @All(Optional(), Millis(RANGES.maxTimeoutMs))
  connectMs?: number;

  @All(Optional(), Millis(RANGES.maxTimeoutMs))
  helloMs?: number;

  @All(Optional(), Millis(RANGES.maxTimeoutMs))
  readyMs?: number;

  @All(Optional(), Millis(RANGES.maxTimeoutMs))
  guildsReadyMs?: number;
}

class ReconnectSchema {
  @All(Optional(), Millis(RANGES.maxDelayMs))
  baseDelayMs?: number;

  @All(
    Optional(),
    Millis(RANGES.maxBackoffMs),
    AtLeastSibling('baseDelayMs', DEFAULTS.reconnect.baseDelayMs),
  )
  maxDelayMs?: number;

  @All(Optional(), IntInRange(1, 1_000))
  resumeUrlFailures?: number;

  @All(Optional(), Millis(RANGES.maxTimeoutMs))
  stableAfterMs?: number;
}

const DELAY_RULE = `must be an integer of milliseconds between 0 and ${RANGES.maxDelayMs}`;

class InvalidSessionDelaySchema {
  @All(Optional(), IntInRange(0, RANGES.maxDelayMs, DELAY_RULE))
  min?: number;

  @All(
    Optional(),
    IntInRange(0, RANGES.maxDelayMs, DELAY_RULE),
    AtLeastSibling('min', DEFAULTS.invalidSessionDelayMs.min),
  )
  max?: number;
}

const MESSAGE_CAP_RULE = `must be an integer of bytes between ${RANGES.minMessageCapBytes} (64 KiB) and ${RANGES.maxMessageCapBytes} (1 GiB)`;

class LimitsSchema {
  @All(
    Optional(),
    IntInRange(RANGES.minMessageCapBytes, RANGES.maxMessageCapBytes, MESSAGE_CAP_RULE),
  )
  maxFrameBytes?: number;

  @All(
    Optional(),
    IntInRange(RANGES.minMessageCapBytes, RANGES.maxMessageCapBytes, MESSAGE_CAP_RULE),
  )
  maxInflatedBytes?: number;

  @All(Optional(), IntInRange(2, 120, 'must be an integer between 2 and 120'))
  commandsPerWindow?: number;

  @All(Optional(), Millis(RANGES.maxCommandWindowMs))
  commandWindowMs?: number;

  @All(Optional(), MarginMillis())
  commandMarginMs?: number;

  @All(Optional(), Millis(RANGES.maxCommandWindowMs))
  presenceWindowMs?: number;

  @All(Optional(), MarginMillis())
  presenceMarginMs?: number;

  @All(
    Optional(),
    Rule(
      'heartbeatReserve',
      'must be an integer >= 1 and < commandsPerWindow',
      (v, args) =>
        isInteger(v) &&
        v >= 1 &&
        v < (field<number>(args, 'commandsPerWindow') ?? DEFAULTS.limits.commandsPerWindow),
    ),
  )
  heartbeatReserve?: number;
}

class SessionSchema {
  @Rule(
    'sessionId',
    (args) => sessionIdProblem(args.value) ?? '',
    (v) => sessionIdProblem(v) === null,
  )
  id!: string;

  @IntAtLeast(0)
  sequence!: number;

  // ws: to a non-loopback host is judged in normalize.ts, where allowInsecureGateway is known.
  @All(
    Rule(
      'resumeUrlLength',
      `must be at most ${MAX_RESUME_URL_LENGTH} characters`,
      (v) => typeof v !== 'string' || v.length <= MAX_RESUME_URL_LENGTH,
    ),
    UrlRule('resumeUrl', checkSessionResumeUrl, () => true),
  )
  resumeUrl!: string;
}

/** Options of both a shard and a cluster. */
export class CommonOptionsSchema {
  @All(
    Opaque(),
    Rule(
      'token',
      (args) => tokenProblem(args.value) ?? '',
      (v) => tokenProblem(v) === null,
    ),
  )
  token!: unknown;

  // Judged by parseIntents (events/intents.ts) in normalize.ts, which reports every bad entry.
  @Allow()
  intents!: unknown;

  @All(Optional(), UrlRule('gatewayUrl', checkGatewayUrl, insecureAllowed))
  gatewayUrl?: string;

  @All(Optional(), Bool())
  allowInsecureGateway?: boolean;

  @All(
    Optional(),
    Rule(
      'trustedResumeHosts',
      'must be an array of host names (or *.domain)',
      (v) => Array.isArray(v) && v.every(isHostPattern),
    ),
  )
  trustedResumeHosts?: string[];

  @All(Optional(), Bool())
  resumeThroughGateway?: boolean;

  @All(Optional(), IntInRange(1, 10))
  maxMissedAcks?: number;

  @All(Optional(), OneOf(['zlib-stream', 'zstd-stream', 'none']))
  compression?: string;

  @All(Optional(), OneOf(['json', 'etf']))
  encoding?: string;

  @All(Optional(), IntInRange(50, 250))
  largeThreshold?: number;

  @All(Optional(), Nested(IdentifyPropertiesSchema))
  identifyProperties?: IdentifyPropertiesSchema;

  @All(
    Optional(),
    Rule(
      'eventTypes',
      'must be an EventTypeFlags bigint (only bits of EventTypeFlags.ALL)',
      (v) => typeof v === 'bigint' && v >= 0n && (v & ~EventTypeFlags.ALL) === 0n,
    ),
  )
  eventTypes?: bigint;

  @All(Optional(), Nested(TimeoutsSchema))
  timeouts?: TimeoutsSchema;

  @All(Optional(), Nested(ReconnectSchema))
  reconnect?: ReconnectSchema;

  @All(Optional(), Nested(InvalidSessionDelaySchema))
  invalidSessionDelayMs?: InvalidSessionDelaySchema;

  @All(Optional(), Nested(LimitsSchema))
  limits?: LimitsSchema;

  @All(Optional(), NonEmptyString('must be a non-empty file path'))
  recordTo?: string;

  @All(Optional(), IntInRange(1, RANGES.maxBufferSize))
  bufferSize?: number;
}

/** Options of one shard. */
export class ShardOptionsSchema extends CommonOptionsSchema {
  @All(
    Optional(),
    Rule('shardId', 'must be an integer with 0 <= shardId < shardCount', (v, args) => {
      const count = field(args, 'shardCount') ?? DEFAULTS.shardCount;
      return isInteger(v) && v >= 0 && (!isInteger(count) || count < 1 || v < count);
    }),
  )
  shardId?: number;

  @All(Optional(), ShardCount())
  shardCount?: number;

  @All(Optional(), Nested(PresenceSchema, 'must be a presence object'))
  presence?: PresenceSchema;

  @All(Optional(), Nested(SessionSchema, 'must be a session object { id, sequence, resumeUrl }'))
  session?: SessionSchema;
}

class ShardRangeSchema {
  @Rule(
    'from',
    'must be an integer with 0 <= from <= to',
    (v, args) => isInteger(v) && v >= 0 && v <= (sibling(args, 'to', 0) ?? v),
  )
  from!: number;

  @Rule(
    'to',
    'must be an integer with from <= to < shardCount',
    (v, args) => isInteger(v) && v >= 0 && v < (sibling(args, 'shardCount', 1) ?? v + 1),
  )
  to!: number;

  @ShardCount()
  shardCount!: number;
}

class ShardBucketsSchema {
  @All(
    Rule(
      'buckets',
      'must be a non-empty array of unique integers in [0, maxConcurrency)',
      (v, args) => {
        const max = sibling(args, 'maxConcurrency', 1);
        return (
          Array.isArray(v) &&
          v.length > 0 &&
          new Set(v).size === v.length &&
          v.every((b) => isInteger(b) && b >= 0 && (max === undefined || b < max))
        );
      },
    ),
    Rule(
      'bucketsSelectShards',
      'must select at least one shard (bucket k holds the shards whose id % maxConcurrency is k)',
      (v, args) => {
        const count = sibling(args, 'shardCount', 1);
        return count === undefined || (v as number[]).some((b) => b < count);
      },
    ),
  )
  buckets!: number[];

  @ShardCount()
  shardCount!: number;

  @IntInRange(1, RANGES.maxConcurrency)
  maxConcurrency!: number;
}

const SHARDS_SHAPE =
  "must be 'recommended', { from, to, shardCount } or { buckets, shardCount, maxConcurrency }";

/** Options of a cluster. */
export class ClusterOptionsSchema extends CommonOptionsSchema {
  @All(
    Optional(),
    ValidateIf((_object: object, value: unknown) => value !== 'recommended'),
    Nested(ShardRangeSchema, SHARDS_SHAPE, (raw) =>
      typeof raw === 'object' && raw !== null && 'buckets' in raw
        ? ShardBucketsSchema
        : ShardRangeSchema,
    ),
  )
  shards?: 'recommended' | ShardRangeSchema | ShardBucketsSchema;

  @All(Optional(), UrlRule('apiUrl', checkApiUrl, insecureAllowed))
  apiUrl?: string;

  @All(
    Optional(),
    ValidateIf((_object: object, value: unknown) => typeof value !== 'function'),
    Nested(PresenceSchema, 'must be a presence object or a function of the shard id'),
  )
  presence?: PresenceSchema | ((shardId: number) => unknown);

  @All(
    Optional(),
    IntInRange(1, RANGES.maxConcurrency),
    Rule('maxConcurrency', 'must equal shards.maxConcurrency when both are given', (v, args) => {
      const shards = field<Record<string, unknown>>(args, 'shards');
      return (
        typeof shards !== 'object' ||
        shards === null ||
        !('maxConcurrency' in shards) ||
        shards.maxConcurrency === v
      );
    }),
  )
  maxConcurrency?: number;

  @All(Optional(), Millis(RANGES.maxIdentifyWindowMs))
  identifyWindowMs?: number;

  @All(Optional(), MarginMillis())
  identifyMarginMs?: number;

  @All(Optional(), OneOf(['fail', 'wait']))
  onBudgetExhausted?: string;

  @All(Optional(), Millis(RANGES.maxTimeoutMs))
  guildsReadyTimeoutMs?: number;

  @All(Optional(), ShardCount())
  maxRecommendedShards?: number;
}
