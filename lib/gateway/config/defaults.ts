import { DEFAULT_IDENTIFY_MARGIN_MS } from '../queue/in-memory-queue.js';
import { DEFAULT_MAX_MISSED_ACKS } from '../shard/heartbeat.js';
import {
  COMMAND_MARGIN_MS,
  PRESENCE_MARGIN_MS,
  PRESENCE_WINDOW_MS,
} from '../shard/rate-limiter.js';
import type { InvalidSessionDelay, ReconnectOptions, Timeouts } from './options.js';

/** Defaults of the options of `ShardOptions` and `ClusterOptions`. */
export const DEFAULTS = {
  shardId: 0,
  shardCount: 1,
  gatewayUrl: 'wss://gateway.discord.gg',
  apiUrl: 'https://discord.com/api/v10',
  allowInsecureGateway: false,
  resumeThroughGateway: false,
  maxMissedAcks: DEFAULT_MAX_MISSED_ACKS,
  compression: 'zlib-stream',
  encoding: 'json',
  largeThreshold: 50,
  libraryName: 'nestjs-discord-gateway',
  timeouts: {
    connectMs: 15_000,
    helloMs: 20_000,
    readyMs: 60_000,
    guildsReadyMs: 15_000,
  } satisfies Timeouts,
  reconnect: {
    baseDelayMs: 1_000,
    maxDelayMs: 60_000,
    resumeUrlFailures: 3,
    stableAfterMs: 60_000,
  } satisfies ReconnectOptions,
  invalidSessionDelayMs: { min: 1_000, max: 5_000 } satisfies InvalidSessionDelay,
  limits: {
    // 128 MiB, see MESSAGE_CAP_BYTES.
    maxFrameBytes: 128 * 1024 * 1024,
    maxInflatedBytes: 128 * 1024 * 1024,
    commandsPerWindow: 120,
    commandWindowMs: 60_000,
    commandMarginMs: COMMAND_MARGIN_MS,
    presenceWindowMs: PRESENCE_WINDOW_MS,
    presenceMarginMs: PRESENCE_MARGIN_MS,
  },
  bufferSize: 1_000,
  identifyWindowMs: 5_000,
  identifyMarginMs: DEFAULT_IDENTIFY_MARGIN_MS,
  onBudgetExhausted: 'fail',
  maxRecommendedShards: 2_500,
} as const;

/*
 * How the default message caps (limits.maxFrameBytes, limits.maxInflatedBytes: 128 MiB each)
 * were chosen. A bot's READY lists its guilds as unavailable stubs (~60 bytes each, at most
 * 2,500 guilds a shard: well under 1 MiB). The largest message a bot can get is a GUILD_CREATE:
 * Discord leaves offline members out above large_threshold (250 at most) and sends members and
 * presences only for guilds of up to 75,000 members, so even with every one of them online,
 * at ~700 bytes of member and presence each, plus channels, roles, emojis and threads, it
 * stays near 55 MiB. The largest messages reported on the gateway (a user account's READY)
 * passed 16 MiB. 128 MiB is 8 times that, and over twice the worst bot case; one message at the
 * cap costs under 1 GiB to decode, where the former 512 MiB caps allowed about 2 GiB.
 */

/**
 * The ranges every numeric option is held to (config validation): wide enough for any real
 * bot and for tests with compressed time, narrow enough that a typo (ten million shards, a
 * 2^53-byte cap, a 24-day timeout) fails at startup instead of exhausting the process.
 */
export const RANGES = {
  /**
   * Shard counts: a bot in every Discord guild, at Discord's recommended ~1,000 guilds a
   * shard, would need a few tens of thousands.
   */
  maxShardCount: 65_536,
  /** Guards on a wait (timeouts.*, guildsReadyTimeoutMs, reconnect.stableAfterMs), ms: 1 h. */
  maxTimeoutMs: 3_600_000,
  /** reconnect.baseDelayMs and the op 9 wait, ms: 10 min. */
  maxDelayMs: 600_000,
  /** reconnect.maxDelayMs, ms: 1 h. */
  maxBackoffMs: 3_600_000,
  /** limits.maxFrameBytes and limits.maxInflatedBytes: 64 KiB to 1 GiB. */
  minMessageCapBytes: 64 * 1024,
  maxMessageCapBytes: 1024 * 1024 * 1024,
  /** limits.commandWindowMs, limits.presenceWindowMs and identifyWindowMs, ms: 1 h, 1 h and 10 min. */
  maxCommandWindowMs: 3_600_000,
  maxIdentifyWindowMs: 600_000,
  /** bufferSize: events held per `events()` buffer. */
  maxBufferSize: 1_000_000,
  /** maxConcurrency (Discord gives 1, or 16 and its multiples to very large bots). */
  maxConcurrency: 1_024,
} as const;
