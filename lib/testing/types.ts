import type { FakeClock } from './clock.js';
import type { PayloadEncoder } from './encoding.js';
import type { NetworkOptions } from './network.js';
import type { ListenerKind, RecordingLimits } from './recording.js';
import type { TrafficMix } from './traffic.js';

/** A gateway payload on the wire (GW-ENV-1). */
export interface GatewayPayload {
  op: number;
  d: unknown;
  s?: number | null;
  t?: string | null;
}

/**
 * Which form the server answers a heartbeat with (GW-ENV-2): `'bare'` is the docs' `{"op":11}`,
 * `'wire'` the real `{"t":null,"s":null,"op":11,"d":null}`, `'alternate'` switches between
 * them (wire first), `'none'` sends no ACK at all (a zombied connection, GW-HB-4).
 */
export type AckForm = 'bare' | 'wire' | 'alternate' | 'none';

/**
 * How the server treats one connection. Set defaults with `FakeGatewayOptions.connection`,
 * or script upcoming connections with `FakeGateway.nextConnections()`.
 */
export interface ConnectionScript {
  /**
   * What the server does when the socket opens: `'hello'` (default); `'reconnect'` sends op 7
   * instead of HELLO (GW-LC-1, GW-GT-18); `'none'` withholds HELLO.
   */
  onConnect?: 'hello' | 'reconnect' | 'none';
  /** Delay before HELLO, ms on the clock. Default 0. */
  helloDelayMs?: number;
  /** With `onConnect: 'reconnect'`: close the socket (code 4000) this many ms after op 7. Default: leave it open. */
  closeAfterReconnectMs?: number;
  /** Delay before READY (after IDENTIFY) or the replay + RESUMED (after RESUME), ms. Default 0. */
  readyDelayMs?: number;
  /** Never send READY / the replay + RESUMED. Default false. */
  withholdReady?: boolean;
  /**
   * Spread the GUILD_CREATEs that follow READY: one every this many ms on the clock, the
   * first one interval after READY, as a large bot's start-up backlog keeps arriving for
   * minutes (GW-GT-7). Default 0: all right after READY.
   */
  guildCreateIntervalMs?: number;
  /** Heartbeat ACK form. Default `FakeGatewayOptions.ackForm`. */
  ackForm?: AckForm;
  /**
   * Split every compressed message into this many parts (zlib-stream only, GW-EN-4). Default 1.
   * `splitAs: 'messages'` (default) sends each part as its own WebSocket message, so the
   * client must buffer until the `00 00 ff ff` suffix; `'fragments'` uses continuation frames.
   */
  splitParts?: number;
  splitAs?: 'messages' | 'fragments';
  /**
   * Misbehave right after the handshake succeeded (READY and its GUILD_CREATEs, or the replay
   * and RESUMED, went out): `'close'` closes with 4000, `'reconnect'` sends op 7, `'drop'` drops
   * the TCP connection, `'bad-frame'` sends invalid JSON. Set on `FakeGatewayOptions.connection`
   * it hits every connection: a gateway or middlebox that a client would reconnect to in a tight
   * loop if it trusted READY or RESUMED as proof of a healthy connection. Default none.
   */
  afterHandshake?: 'close' | 'reconnect' | 'drop' | 'bad-frame';
}

/** Options of `FakeGateway.start()`. Every field is optional. */
export interface FakeGatewayOptions {
  /** Interface both listeners bind. Default `'127.0.0.1'`. */
  host?: string;
  /** Port of the base listener (HTTP API + gateway). Default 0 (ephemeral). */
  port?: number;
  /** Port of the resume listener (`resume_gateway_url`). Default 0 (ephemeral). */
  resumePort?: number;
  /**
   * Path of READY's `resume_gateway_url`, e.g. `'/resume-abc'` (a proxy under a path prefix).
   * Default none: `ws://host:port`, as Discord sends it.
   */
  resumePath?: string;
  /** Tokens IDENTIFY/RESUME and `Authorization: Bot <token>` accept. Default `[FakeGateway.defaultToken]`. */
  tokens?: readonly string[];
  /** Runs every protocol timer. Default real time. */
  clock?: FakeClock;

  /** HELLO `heartbeat_interval`, ms (GW-HB-1). Default 41_250. */
  heartbeatIntervalMs?: number;
  /** Extra time after the interval before a silent client is closed with 4009, ms. Default max(1_000, interval / 2). */
  heartbeatGraceMs?: number;
  /** Include an `_trace` array in HELLO, READY and RESUMED (GW-ENV-3). Default true. */
  trace?: boolean;
  /** Heartbeat ACK form (GW-ENV-2). Default `'alternate'`. */
  ackForm?: AckForm;
  /** How long the client has to answer a server op 1, ms (GW-HB-5). Default 1_000. */
  heartbeatRequestDeadlineMs?: number;
  /** Defaults for every connection. */
  connection?: ConnectionScript;
  /**
   * Transit delay and jitter on each direction of every connection (FIFO, no reordering).
   * The gateway stamps and judges a client frame when it arrives, after its inbound delay.
   * Default none.
   */
  network?: NetworkOptions;

  /**
   * Client payloads per connection per window, heartbeats included (GW-RL-1). Default
   * 120 per 60_000 ms; when `heartbeatIntervalMs` is below 41_250 and no window is given,
   * the window shrinks in proportion so short-interval tests keep the real ratio.
   */
  sendLimit?: { limit?: number; windowMs?: number };
  /** Presence updates per window before a violation is recorded (GW-RL-4). Default 5 per 20_000 ms. */
  presenceLimit?: { limit?: number; windowMs?: number };
  /** Accepted `v` values; anything else is closed with 4012 (GW-URL-3). Absent `v` is accepted. Default 6..10. */
  apiVersions?: readonly number[];

  /** `max_concurrency` (GW-SH-4). Default 1. */
  maxConcurrency?: number;
  /** Identify window per bucket, ms (GW-RL-2). Default 5_000. */
  identifyWindowMs?: number;
  /**
   * An IDENTIFY arriving up to this many ms before its bucket's window ends is accepted.
   * Default 0: the window is judged as Discord documents it, at arrival; a client paces with
   * its own margin for transit jitter.
   */
  identifyToleranceMs?: number;
  /** Daily session start limit (GW-ID-5): total (default 1_000), remaining (default total), reset period ms (default 86_400_000). */
  sessionStartLimit?: { total?: number; remaining?: number; resetAfterMs?: number };
  /** Recommended shard count `/gateway/bot` reports. Default 1. */
  shards?: number;
  /** A shard count that is not a multiple of this is closed with 4010 (GW-SH-5). Default 1. */
  shardCountMultiple?: number;
  /** Guilds one shard may own before IDENTIFY is closed with 4011 (GW-SH-3). Default 2_500. */
  maxGuildsPerShard?: number;
  /** Privileged intents the application was granted (GW-ID-3). Default all three (33026). */
  grantedIntents?: number;

  /** How long a session without a connection stays resumable, ms. Default 180_000. */
  sessionTimeoutMs?: number;
  /** Dispatches kept per session for RESUME. Default 10_000. */
  replayBufferSize?: number;

  /** The generated world and its traffic (seeded). */
  traffic?: {
    /** PRNG seed. Default 1. */
    seed?: number;
    /** Guilds. Default 2 per recommended shard. */
    guildCount?: number;
    /** Channels per guild. Default 4. */
    channelsPerGuild?: number;
    /** Members per guild besides the bot. Default 25. */
    membersPerGuild?: number;
    /** Fraction of MESSAGE_CREATEs that are `!ping` / `!presence`. Default 0.05. */
    commandFraction?: number;
    /** Event type weights. */
    mix?: TrafficMix;
    /** Rate of `startTraffic()` and of the state-file gap, events/s (all shards together). Default 5. */
    ratePerSecond?: number;
  };
  /** Guild ids (of the world's) that come up unavailable after READY (GW-RD-1). Default none. */
  unavailableGuildIds?: readonly string[];
  /** How unavailable guilds are announced: GUILD_DELETE `{unavailable:true}` (default) or GUILD_CREATE of an unavailable guild. */
  unavailableAs?: 'GUILD_DELETE' | 'GUILD_CREATE';

  /** Members per GUILD_MEMBERS_CHUNK (default 1_000), or a fixed number of chunks per answer. */
  memberChunks?: { size?: number; count?: number };
  /** Window of the full-member-list limit per guild, ms (GW-RL-5). Default 30_000. */
  memberRequestWindowMs?: number;
  /** Answer op 3 with a PRESENCE_UPDATE of the bot. Default false. */
  echoPresence?: boolean;

  /** Payload encoders by `encoding=` name, added to the built-in `json` and `etf`. */
  encodings?: Readonly<Record<string, PayloadEncoder>>;
  /** Bounds on the record. */
  recording?: RecordingLimits;

  /**
   * Sessions are saved here on `stop()` and loaded on `start()`; after a restart the
   * downtime's dispatches are generated into each session's buffer, so RESUME replays them.
   */
  stateFile?: string;
  /** Most dispatches generated for one downtime gap (all sessions together). Default 2_000. */
  maxGapEvents?: number;
}

/** Which listener(s) an upgrade rule applies to. */
export type ListenerFilter = ListenerKind | 'any';

/** Refuse WebSocket upgrades (the handshake gets an HTTP error) for a count or a duration. */
export interface RefuseUpgradesOptions {
  listener?: ListenerFilter;
  /** Upgrades to refuse. Default: unlimited while `durationMs` runs, else 1. */
  count?: number;
  /** Refuse for this long, ms on the clock. */
  durationMs?: number;
  /** HTTP status. Default 503. */
  status?: number;
}

/** Hold WebSocket upgrades before accepting them. */
export interface DelayUpgradesOptions {
  listener?: ListenerFilter;
  delayMs: number;
  /** Upgrades to delay. Default 1. */
  count?: number;
}
