import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidatorOptions } from 'class-validator';
import type { GatewayPresenceUpdateData, PresenceUpdateStatus } from 'discord-api-types/v10';
import type { Session } from '../session/session.js';
import { ConfigError, type ConfigIssue } from '../errors/index.js';
import { EventTypeFlags } from '../events/event-type-flags.js';
import { parseIntents } from '../events/intents.js';
import { DEFAULTS } from './defaults.js';
import type {
  ClusterConfig,
  ClusterOptions,
  CommonConfig,
  PresenceInput,
  Compression,
  Encoding,
  ShardConfig,
  ShardOptions,
  ShardScheme,
} from './options.js';
import {
  checkApiUrl,
  checkGatewayUrl,
  checkResumeUrl,
  checkSessionResumeUrl,
  droppedKeys,
  toIssues,
} from './rules.js';
import {
  ClusterOptionsSchema,
  CommonOptionsSchema,
  PresenceSchema,
  ShardOptionsSchema,
  toToken,
} from './schema.js';

/**
 * class-validator settings for every check in this library: unknown keys are errors (nested
 * objects too), one rule per option, and no error keeps the object or the value it judged.
 */
export const VALIDATOR_OPTIONS: ValidatorOptions = Object.freeze({
  forbidUnknownValues: true,
  whitelist: true,
  forbidNonWhitelisted: true,
  stopAtFirstError: true,
  validationError: { target: false, value: false },
});

const UNKNOWN_OPTION = 'is not a known option';
/** No `trustedResumeHosts` (the usual case): one frozen array for every config. */
const NO_HOSTS: readonly string[] = Object.freeze([]);

/**
 * Validates shard options and fills in every default.
 *
 * @returns a deeply frozen {@link ShardConfig}; its `token` is a `Token` without `Bot ` prefix.
 * @throws ConfigError listing every problem at once (path and rule, never a value).
 */
export function normalizeShardOptions(input: ShardOptions): ShardConfig {
  const options = validate(ShardOptionsSchema, input, (valid) => {
    // The session class cannot see allowInsecureGateway or the gateway URL; a shape error was
    // reported already.
    const resumeUrl = valid.session?.resumeUrl;
    if (typeof valid.session !== 'object' || !('url' in checkSessionResumeUrl(resumeUrl, true)))
      return [];
    const insecure = valid.allowInsecureGateway === true;
    const gateway = checkGatewayUrl(valid.gatewayUrl ?? DEFAULTS.gatewayUrl, insecure);
    if (!('url' in gateway)) return [];
    const resume = checkResumeUrl(
      resumeUrl,
      gateway.url,
      insecure,
      Array.isArray(valid.trustedResumeHosts) ? valid.trustedResumeHosts : [],
    );
    return 'rule' in resume ? [{ path: 'session.resumeUrl', rule: resume.rule }] : [];
  });
  const common = normalizeCommon(options);
  const session: Session | null =
    options.session === undefined
      ? null
      : {
          id: options.session.id,
          sequence: options.session.sequence,
          resumeUrl: (
            checkSessionResumeUrl(options.session.resumeUrl, common.allowInsecureGateway) as {
              url: string;
            }
          ).url,
        };
  return deepFreeze(
    shardConfig(common, {
      shardId: options.shardId ?? DEFAULTS.shardId,
      shardCount: options.shardCount ?? DEFAULTS.shardCount,
      presence: options.presence === undefined ? null : toPresence(options.presence),
      session,
    }),
  );
}

/**
 * One object literal with every field, not `common` with the shard's fields added (those went
 * to an out-of-object property array, ~64 bytes per shard) nor a spread copy (a fresh hidden
 * class per shard once frozen, ~1.3 KiB): every shard's config shares one hidden class.
 */
function shardConfig(
  common: CommonConfig,
  own: Pick<ShardConfig, 'shardId' | 'shardCount' | 'presence' | 'session'>,
): ShardConfig {
  return {
    token: common.token,
    intents: common.intents,
    gatewayUrl: common.gatewayUrl,
    allowInsecureGateway: common.allowInsecureGateway,
    trustedResumeHosts: common.trustedResumeHosts,
    resumeThroughGateway: common.resumeThroughGateway,
    maxMissedAcks: common.maxMissedAcks,
    compression: common.compression,
    encoding: common.encoding,
    largeThreshold: common.largeThreshold,
    identifyProperties: common.identifyProperties,
    eventTypes: common.eventTypes,
    timeouts: common.timeouts,
    reconnect: common.reconnect,
    invalidSessionDelayMs: common.invalidSessionDelayMs,
    limits: common.limits,
    recordTo: common.recordTo,
    bufferSize: common.bufferSize,
    shardId: own.shardId,
    shardCount: own.shardCount,
    presence: own.presence,
    session: own.session,
  };
}

/**
 * Validates cluster options and fills in every default.
 *
 * @returns a deeply frozen {@link ClusterConfig} (a presence function is kept as is).
 * @throws ConfigError listing every problem at once (path and rule, never a value).
 */
export function normalizeClusterOptions(input: ClusterOptions): ClusterConfig {
  const options = validate(ClusterOptionsSchema, input, (valid) => {
    const timeout = typeof valid.timeouts === 'object' ? valid.timeouts.guildsReadyMs : undefined;
    return typeof valid.guildsReadyTimeoutMs === 'number' &&
      typeof timeout === 'number' &&
      timeout !== valid.guildsReadyTimeoutMs
      ? [
          {
            path: 'guildsReadyTimeoutMs',
            rule: 'must equal timeouts.guildsReadyMs when both are given',
          },
        ]
      : [];
  });
  const common = normalizeCommon(options);
  const guildsReadyTimeoutMs = options.guildsReadyTimeoutMs ?? common.timeouts.guildsReadyMs;
  const shards = toScheme(options.shards);
  const presence = options.presence;
  return deepFreeze({
    ...common,
    timeouts: { ...common.timeouts, guildsReadyMs: guildsReadyTimeoutMs },
    shards,
    apiUrl: (
      checkApiUrl(options.apiUrl ?? DEFAULTS.apiUrl, common.allowInsecureGateway) as { url: string }
    ).url,
    presence:
      presence === undefined
        ? null
        : typeof presence === 'function'
          ? (presence as (shardId: number) => PresenceInput)
          : toPresence(presence),
    maxConcurrency:
      options.maxConcurrency ?? (shards.kind === 'buckets' ? shards.maxConcurrency : null),
    identifyWindowMs: options.identifyWindowMs ?? DEFAULTS.identifyWindowMs,
    identifyMarginMs: options.identifyMarginMs ?? DEFAULTS.identifyMarginMs,
    onBudgetExhausted: (options.onBudgetExhausted ?? DEFAULTS.onBudgetExhausted) as 'fail' | 'wait',
    guildsReadyTimeoutMs,
    maxRecommendedShards: options.maxRecommendedShards ?? DEFAULTS.maxRecommendedShards,
  });
}

/**
 * The options of one shard of a cluster: the cluster's settings (its `Token` included), this
 * shard's id and count, its presence (a presence function is called here) and a session to
 * resume. Passing them to the shard validates the presence the function returned.
 */
export function shardOptionsFor(
  config: ClusterConfig,
  shardId: number,
  shardCount: number,
  session?: Session | null,
): ShardOptions {
  const presence =
    typeof config.presence === 'function' ? config.presence(shardId) : config.presence;
  return {
    token: config.token,
    intents: config.intents,
    gatewayUrl: config.gatewayUrl,
    allowInsecureGateway: config.allowInsecureGateway,
    trustedResumeHosts: config.trustedResumeHosts,
    resumeThroughGateway: config.resumeThroughGateway,
    maxMissedAcks: config.maxMissedAcks,
    compression: config.compression,
    encoding: config.encoding,
    largeThreshold: config.largeThreshold,
    identifyProperties: config.identifyProperties,
    eventTypes: config.eventTypes,
    timeouts: config.timeouts,
    reconnect: config.reconnect,
    invalidSessionDelayMs: config.invalidSessionDelayMs,
    limits: {
      ...config.limits,
      heartbeatReserve: config.limits.heartbeatReserve ?? undefined,
    },
    recordTo: config.recordTo ?? undefined,
    bufferSize: config.bufferSize,
    shardId,
    shardCount,
    presence: presence ?? undefined,
    // The shard resumes with the id, sequence and URL; the generation is the stored session's own.
    session:
      session === null || session === undefined
        ? undefined
        : { id: session.id, sequence: session.sequence, resumeUrl: session.resumeUrl },
  };
}

/** The full presence for a validated presence object (absent fields: online, no activity). */
export function toPresence(presence: PresenceSchema): GatewayPresenceUpdateData {
  return {
    since: presence.since ?? null,
    activities: (presence.activities ?? []).map((activity) => ({
      name: activity.name,
      type: activity.type,
      ...(activity.url !== undefined && { url: activity.url }),
      ...(activity.state !== undefined && { state: activity.state }),
    })),
    status: (presence.status ?? 'online') as PresenceUpdateStatus,
    afk: presence.afk ?? false,
  };
}

function validate<T extends CommonOptionsSchema>(
  schema: new () => T,
  input: unknown,
  crossChecks: (valid: T) => ConfigIssue[] = () => [],
): T {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError([{ path: 'options', rule: 'must be an object' }]);
  }
  const instance = plainToInstance(schema, input);
  const issues = toIssues(validateSync(instance, VALIDATOR_OPTIONS), UNKNOWN_OPTION);
  droppedKeys(input, instance, UNKNOWN_OPTION, '', issues);
  issues.push(...parseIntents(instance.intents).problems);
  issues.push(...crossChecks(instance));
  if (issues.length > 0) throw new ConfigError(issues);
  return instance;
}

function normalizeCommon(options: CommonOptionsSchema): CommonConfig {
  const allowInsecureGateway = options.allowInsecureGateway ?? DEFAULTS.allowInsecureGateway;
  const properties = options.identifyProperties;
  const limits = options.limits;
  return {
    token: toToken(options.token as string),
    intents: parseIntents(options.intents).intents,
    gatewayUrl: (
      checkGatewayUrl(options.gatewayUrl ?? DEFAULTS.gatewayUrl, allowInsecureGateway) as {
        url: string;
      }
    ).url,
    allowInsecureGateway,
    trustedResumeHosts:
      options.trustedResumeHosts === undefined || options.trustedResumeHosts.length === 0
        ? NO_HOSTS
        : [...options.trustedResumeHosts],
    resumeThroughGateway: options.resumeThroughGateway ?? DEFAULTS.resumeThroughGateway,
    maxMissedAcks: options.maxMissedAcks ?? DEFAULTS.maxMissedAcks,
    compression: (options.compression ?? DEFAULTS.compression) as Compression,
    encoding: (options.encoding ?? DEFAULTS.encoding) as Encoding,
    largeThreshold: options.largeThreshold ?? DEFAULTS.largeThreshold,
    identifyProperties: shared({
      os: properties?.os ?? process.platform,
      browser: properties?.browser ?? DEFAULTS.libraryName,
      device: properties?.device ?? DEFAULTS.libraryName,
    }),
    eventTypes: options.eventTypes ?? EventTypeFlags.ALL,
    timeouts: shared(withDefaults(DEFAULTS.timeouts, options.timeouts)),
    reconnect: shared(withDefaults(DEFAULTS.reconnect, options.reconnect)),
    invalidSessionDelayMs: shared(
      withDefaults(DEFAULTS.invalidSessionDelayMs, options.invalidSessionDelayMs),
    ),
    limits: shared(
      Object.assign(withDefaults(DEFAULTS.limits, limits), {
        heartbeatReserve: limits?.heartbeatReserve ?? null,
      }),
    ),
    recordTo: options.recordTo ?? null,
    bufferSize: options.bufferSize ?? DEFAULTS.bufferSize,
  };
}

function toScheme(shards: ClusterOptionsSchema['shards']): ShardScheme {
  if (shards === undefined || shards === 'recommended') return { kind: 'recommended' };
  if ('buckets' in shards) {
    return {
      kind: 'buckets',
      buckets: [...shards.buckets].sort((a, b) => a - b),
      shardCount: shards.shardCount,
      maxConcurrency: shards.maxConcurrency,
    };
  }
  return { kind: 'range', from: shards.from, to: shards.to, shardCount: shards.shardCount };
}

/**
 * A plain object with every key of `defaults`, from `given` where it is defined. Built key by
 * key in the order of `defaults` (not spread), so that equal configs share one hidden class
 * once frozen.
 */
function withDefaults<T extends object>(
  defaults: T,
  given: object | undefined,
): { -readonly [K in keyof T]: T[K] } {
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) {
    const value = (given as Record<string, unknown> | undefined)?.[key];
    result[key] = value === undefined ? (defaults as Record<string, unknown>)[key] : value;
  }
  return result as { -readonly [K in keyof T]: T[K] };
}

/** Frozen config parts by content (see {@link shared}); started over beyond this many. */
const sharedParts = new Map<string, object>();
const MAX_SHARED_PARTS = 256;

/**
 * `part` frozen, or an equal part made earlier: every shard of a cluster normalizes its own
 * config, and without this each held its own copies of the same timeouts, limits and so on
 * (five objects, ~0.3 KiB per shard). Parts hold only numbers, strings and null.
 */
function shared<T extends object>(part: T): T {
  const key = Object.entries(part)
    .map(([name, value]) => `${name}=${typeof value}:${String(value)}`)
    .join(',');
  const existing = sharedParts.get(key);
  if (existing !== undefined) return existing as T;
  if (sharedParts.size >= MAX_SHARED_PARTS) sharedParts.clear();
  sharedParts.set(key, deepFreeze(part));
  return part;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value) && isPlain(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

const isPlain = (value: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === Array.prototype || proto === null;
};

/**
 * The shard ids a scheme selects, ascending. `recommended` needs Discord's answer
 * (`GET /gateway/bot`): all shards `0..shardCount-1`.
 */
export function shardIdsOf(scheme: ShardScheme, recommendedShardCount?: number): number[] {
  switch (scheme.kind) {
    case 'recommended':
      if (recommendedShardCount === undefined) {
        throw new ConfigError([
          { path: 'shards', rule: "'recommended' needs the shard count from GET /gateway/bot" },
        ]);
      }
      return Array.from({ length: recommendedShardCount }, (_, id) => id);
    case 'range':
      return Array.from({ length: scheme.to - scheme.from + 1 }, (_, index) => scheme.from + index);
    case 'buckets': {
      const buckets = new Set(scheme.buckets);
      const ids: number[] = [];
      for (let id = 0; id < scheme.shardCount; id++) {
        if (buckets.has(id % scheme.maxConcurrency)) ids.push(id);
      }
      return ids;
    }
  }
}
