import type { GatewayPresenceUpdateData, PresenceUpdateStatus } from 'discord-api-types/v10';
import type { EventTypeFlags } from '../events/event-type-flags.js';
import type { Session } from '../session/session.js';
import type { IntentName } from '../events/intents.js';
import type { Token } from './token.js';

/**
 * A presence as users write it: discord-api-types' `GatewayPresenceUpdateData` with every field
 * optional (defaults: `since: null`, `activities: []`, `status: 'online'`, `afk: false`) and
 * the status also as a plain string literal.
 */
export type PresenceInput = Partial<Omit<GatewayPresenceUpdateData, 'status'>> & {
  status?: PresenceUpdateStatus | `${PresenceUpdateStatus}`;
};

/** Transport compression (GW-URL-2, section 14). `'none'` sends no `compress` parameter. */
export type Compression = 'zlib-stream' | 'zstd-stream' | 'none';

/** Payload encoding (GW-URL-2): `'json'`, or `'etf'` (decoded in TypeScript, with depth and size limits). */
export type Encoding = 'json' | 'etf';

/** The `properties` of IDENTIFY (docs/protocol.md section 6). */
export interface IdentifyProperties {
  os: string;
  browser: string;
  device: string;
}

/** Guards on every wait of the handshake (GW-GT-10, GW-GT-11), in ms. */
export interface Timeouts {
  /** TCP + TLS + WebSocket upgrade. Default 15 000. */
  connectMs: number;
  /** From the upgrade to HELLO. Default 20 000. */
  helloMs: number;
  /** From IDENTIFY/RESUME to READY/RESUMED; large bots need a minute. Default 60 000. */
  readyMs: number;
  /** Idle time after the last GUILD_CREATE before the shard counts as guilds-ready. Default 15 000. */
  guildsReadyMs: number;
}

/** Reconnect backoff: first attempt at once, then exponential with jitter, capped. */
export interface ReconnectOptions {
  /** First backoff step in ms. Default 1 000. */
  baseDelayMs: number;
  /** Backoff cap in ms (>= baseDelayMs). Default 60 000. */
  maxDelayMs: number;
  /** Failed connects to the resume URL before falling back to the base URL (GW-GT-1). Default 3. */
  resumeUrlFailures: number;
  /**
   * How long (ms) a connection must stay Active before the backoff starts over, so that the
   * next drop reconnects at once. Until then every drop waits longer, up to `maxDelayMs`: a
   * gateway that closes each connection right after READY or RESUMED gets a few connections a
   * minute, not a storm. Default 60 000.
   */
  stableAfterMs: number;
}

/** The random wait before re-identifying after op 9 `d:false` (GW-GT-4), in ms. */
export interface InvalidSessionDelay {
  /** Default 1 000. */
  min: number;
  /** Default 5 000 (>= min). */
  max: number;
}

/** Size caps (bytes) and the send budget per connection (GW-RL-1, GW-GT-12, GW-GT-14). */
export interface Limits {
  /**
   * Largest WebSocket frame accepted, in bytes: 64 KiB to 1 GiB. Default 128 MiB, far above
   * any real READY or GUILD_CREATE (defaults.ts says how it was chosen).
   */
  maxFrameBytes: number;
  /**
   * Largest inflated message accepted (decompression bomb cap), in bytes: 64 KiB to 1 GiB.
   * Default 128 MiB.
   */
  maxInflatedBytes: number;
  /** Payloads per window and connection, heartbeats included; 1..120. Default 120. */
  commandsPerWindow: number;
  /** The window in ms. Default 60 000; shorter only makes sense against a test gateway. */
  commandWindowMs: number;
  /**
   * Safety margin of the send limiter, ms: a payload stays counted for the window plus this
   * long, so that sends still fit Discord's window when it counts them at arrival after a
   * varying network delay. Default 1 000 (`COMMAND_MARGIN_MS`); scale it with the window.
   */
  commandMarginMs: number;
  /**
   * The window of the presence limiter (5 presence updates per window, GW-RL-4), ms. Default
   * 20 000; shorter only makes sense against a test gateway with a scaled presence window.
   */
  presenceWindowMs: number;
  /** Safety margin of the presence limiter (5 per 20 s, GW-RL-4), ms. Default 1 000 (`PRESENCE_MARGIN_MS`); scale it with the window. */
  presenceMarginMs: number;
  /**
   * Slots of each window kept for heartbeats, IDENTIFY/RESUME and server-requested heartbeats,
   * which user commands never use. Default: computed from the heartbeat interval
   * (see `heartbeatReserveFor`); `null` in the normalized config means computed.
   */
  heartbeatReserve: number | null;
}

/** Options shared by a lone {@link ShardOptions shard} and a {@link ClusterOptions cluster}. */
export interface CommonOptions {
  /**
   * The bot token, with or without one `Bot ` prefix (GW-GT-20). Required. A {@link Token}
   * from a normalized config is accepted as is.
   */
  token: string | Token;
  /** An intent bitfield of known bits (docs/protocol.md section 16) or intent names. Required. */
  intents: number | readonly IntentName[];
  /** Base gateway URL. Default `'wss://gateway.discord.gg'`. */
  gatewayUrl?: string;
  /** Allows `ws:` (and `http:` for apiUrl) to hosts other than loopback. Default false. */
  allowInsecureGateway?: boolean;
  /**
   * Hosts besides the gateway URL's host and the hosts under its parent domain that a RESUME
   * may carry the token to (READY's `resume_gateway_url`, a stored session's resume URL): host
   * names, or `*.domain` for every host under `domain`. Default none.
   */
  trustedResumeHosts?: readonly string[];
  /**
   * Resume through `gatewayUrl` instead of READY's `resume_gateway_url`: behind a reverse proxy
   * READY's URL points straight at Discord and would bypass the proxy. Default false.
   */
  resumeThroughGateway?: boolean;
  /**
   * Heartbeats in a row that may go un-ACKed while other frames keep arriving, once the shard
   * is guilds-ready; then the connection is closed and resumed (GW-HB-4, GW-GT-7). 1..10.
   * Default 2.
   */
  maxMissedAcks?: number;
  /** Default `'zlib-stream'`. */
  compression?: Compression;
  /** Default `'json'`. */
  encoding?: Encoding;
  /** IDENTIFY `large_threshold`, 50..250. Default 50. */
  largeThreshold?: number;
  /** Default `{ os: process.platform, browser: 'nestjs-discord-gateway', device: 'nestjs-discord-gateway' }`. */
  identifyProperties?: Partial<IdentifyProperties>;
  /** Which dispatches are decoded and delivered. Default `EventTypeFlags.ALL`. */
  eventTypes?: EventTypeFlags;
  timeouts?: Partial<Timeouts>;
  reconnect?: Partial<ReconnectOptions>;
  invalidSessionDelayMs?: Partial<InvalidSessionDelay>;
  limits?: Partial<Omit<Limits, 'heartbeatReserve'>> & { heartbeatReserve?: number };
  /** A file that receives every payload received, one JSON object per line. Default none. */
  recordTo?: string;
  /** Bound of each AsyncIterable event buffer (overflow is counted and logged). Default 1 000. */
  bufferSize?: number;
}

/** What a user passes to a `Shard`. Only `token` and `intents` are required. */
export interface ShardOptions extends CommonOptions {
  /** Zero-based shard id, < shardCount (GW-SH-1). Default 0. */
  shardId?: number;
  /** Default 1. */
  shardCount?: number;
  /** Presence sent in IDENTIFY (op 3 shape, docs/protocol.md section 15). Default none. */
  presence?: PresenceInput;
  /** A session to RESUME on the first connect instead of identifying. Default none. */
  session?: Session;
}

/** Discord's recommended shard count and max concurrency, from `GET /gateway/bot`. */
export type RecommendedShards = 'recommended';

/** Shards `from..to` (inclusive) of `shardCount`. */
export interface ShardRange {
  from: number;
  to: number;
  shardCount: number;
}

/** Every shard whose `id % maxConcurrency` is one of `buckets` (GW-SH-4). */
export interface ShardBuckets {
  buckets: readonly number[];
  shardCount: number;
  maxConcurrency: number;
}

/** What a user passes to a `Cluster`. Only `token` and `intents` are required. */
export interface ClusterOptions extends CommonOptions {
  /** Which shards this process runs. Default `'recommended'`. */
  shards?: RecommendedShards | ShardRange | ShardBuckets;
  /** REST base for `GET /gateway/bot`. Default `'https://discord.com/api/v10'`. */
  apiUrl?: string;
  /** IDENTIFY presence for every shard, or per shard id. Default none. */
  presence?: PresenceInput | ((shardId: number) => PresenceInput);
  /** Identify concurrency; default: from `GET /gateway/bot` (or the buckets scheme). */
  maxConcurrency?: number;
  /** One IDENTIFY per bucket per window, in ms (GW-RL-2). Default 5 000. */
  identifyWindowMs?: number;
  /**
   * Safety margin between two IDENTIFYs of one bucket, added to the window, ms: Discord judges
   * the window at arrival. Default 250 (`DEFAULT_IDENTIFY_MARGIN_MS`). Used by the built-in
   * queue; a custom `queue` paces itself.
   */
  identifyMarginMs?: number;
  /** What `up()` does when the daily identify budget is too small. Default `'fail'`. */
  onBudgetExhausted?: 'fail' | 'wait';
  /** Alias of `timeouts.guildsReadyMs` for the cluster's all-guilds-ready event. Default 15 000. */
  guildsReadyTimeoutMs?: number;
  /**
   * Most shards the `'recommended'` scheme starts in this process (1 to 65 536). A larger count
   * from GET /gateway/bot fails `up()` with a ConfigError instead of creating them all: raise
   * this, or split the bot across processes with `{ from, to, shardCount }` or `{ buckets, ... }`.
   * Default 2 500.
   */
  maxRecommendedShards?: number;
}

/** Normalized options shared by {@link ShardConfig} and {@link ClusterConfig}: frozen, all defaults filled. */
export interface CommonConfig {
  readonly token: Token;
  /** The intent bitfield (only known bits). */
  readonly intents: number;
  /** `scheme://host[:port]`, no trailing slash. */
  readonly gatewayUrl: string;
  readonly allowInsecureGateway: boolean;
  readonly trustedResumeHosts: readonly string[];
  readonly resumeThroughGateway: boolean;
  readonly maxMissedAcks: number;
  readonly compression: Compression;
  readonly encoding: Encoding;
  readonly largeThreshold: number;
  readonly identifyProperties: Readonly<IdentifyProperties>;
  readonly eventTypes: EventTypeFlags;
  readonly timeouts: Readonly<Timeouts>;
  readonly reconnect: Readonly<ReconnectOptions>;
  readonly invalidSessionDelayMs: Readonly<InvalidSessionDelay>;
  readonly limits: Readonly<Limits>;
  readonly recordTo: string | null;
  readonly bufferSize: number;
}

/** A validated {@link ShardOptions}. */
export interface ShardConfig extends CommonConfig {
  readonly shardId: number;
  readonly shardCount: number;
  /** Full presence for IDENTIFY, or `null` to send none. */
  readonly presence: Readonly<GatewayPresenceUpdateData> | null;
  readonly session: Readonly<Session> | null;
}

/** The normalized shard scheme of a cluster; `kind` tells the three apart. */
export type ShardScheme =
  | { readonly kind: 'recommended' }
  | ({ readonly kind: 'range' } & Readonly<ShardRange>)
  | ({ readonly kind: 'buckets' } & Readonly<ShardBuckets>);

/** A validated {@link ClusterOptions}. */
export interface ClusterConfig extends CommonConfig {
  readonly shards: ShardScheme;
  /** Without trailing slash. */
  readonly apiUrl: string;
  /** A full presence, a function of the shard id (validated when a shard is configured), or none. */
  readonly presence:
    Readonly<GatewayPresenceUpdateData> | ((shardId: number) => PresenceInput) | null;
  /** From the option or the buckets scheme; `null` = take it from `GET /gateway/bot`. */
  readonly maxConcurrency: number | null;
  readonly identifyWindowMs: number;
  readonly identifyMarginMs: number;
  readonly onBudgetExhausted: 'fail' | 'wait';
  /** Same value as `timeouts.guildsReadyMs`. */
  readonly guildsReadyTimeoutMs: number;
  readonly maxRecommendedShards: number;
}
