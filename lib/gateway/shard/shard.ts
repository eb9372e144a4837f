import { inspect } from 'node:util';
import WebSocket from 'ws';
import {
  GatewayDispatchEvents,
  GatewayIntentBits,
  GatewayOpcodes,
  type GatewayRequestChannelInfoData,
  type GatewayRequestGuildMembersData,
  type GatewayRequestSoundboardSoundsData,
} from 'discord-api-types/v10';
import { systemClock, type Clock, type TimerHandle } from '../clock/clock.js';
import {
  createEtfEncoding,
  createInflater,
  decodeJson,
  dispatchTypeHint,
  peekHeader,
  type PayloadEncoding,
} from '../codec/index.js';
import {
  normalizeShardOptions,
  type PresenceInput,
  type ShardConfig,
  type ShardOptions,
} from '../config/index.js';
import { checkResumeUrl } from '../config/rules.js';
import {
  describeError,
  AbortedError,
  ConfigError,
  DecodeError,
  FatalCloseError,
  GatewayError,
  GatewayTimeoutError,
  ProtocolError,
  ShardClosedError,
} from '../errors/errors.js';
import { ALL_EVENT_TYPES, EventType } from '../events/event-type.js';
import { EventTypeFlags } from '../events/event-type-flags.js';
import type { GatewayEvent, GatewayEventListener } from '../events/gateway-event.js';
import { consoleLogger, type GatewayLogger } from '../logger.js';
import type { IdentifyQueue } from '../queue/identify-queue.js';
import { InMemoryIdentifyQueue } from '../queue/in-memory-queue.js';
import type { Session } from '../session/session.js';
import { Backoff } from './backoff.js';
import { closeCodePolicy, type CloseAction } from './close-codes.js';
import {
  buildCommand,
  buildRequestChannelInfo,
  buildRequestGuildMembers,
  buildRequestSoundboardSounds,
  buildUpdatePresence,
  buildUpdateVoiceState,
  serializePayload,
  type GatewayCommand,
} from './commands.js';
import { Connection } from './connection.js';
import { EventBuffer, warnOnOverflow } from './event-buffer.js';
import { Heartbeat } from './heartbeat.js';
import { Latency, type LatencySnapshot } from './latency.js';
import { hasBufferutil } from './native-addons.js';
import { CommandRateLimiter, PresenceLimiter } from './rate-limiter.js';
import { PayloadRecorder } from './recorder.js';
import { ShardState } from './shard-state.js';

/** Collaborators of a {@link Shard}; each has a default. */
export interface ShardDeps {
  /** Default {@link systemClock}. */
  readonly clock?: Clock;
  /** Paces IDENTIFY; default: an in-memory queue with max_concurrency 1 on `clock`. */
  readonly queue?: IdentifyQueue;
  /** Default `consoleLogger('warn')`. */
  readonly logger?: GatewayLogger;
  /** Uniform in [0, 1): heartbeat, backoff and op 9 jitter. Default `Math.random`. */
  readonly random?: () => number;
}

/** A snapshot of one shard for health checks and `Cluster.info()`. */
export interface ShardInfo {
  readonly id: number;
  readonly total: number;
  readonly state: ShardState;
  readonly latency: LatencySnapshot;
  readonly sessionId: string | null;
  readonly sequence: number | null;
  /** Reconnects scheduled since the shard was created. */
  readonly reconnects: number;
  /** The last connection's end: close code (`null`: no close frame) and reason. */
  readonly lastClose: { readonly code: number | null; readonly reason: string } | null;
  /** Clock reading (ms) when the current connection became Active; `null` when not Active. */
  readonly activeSince: number | null;
}

/** Cheap counters of a shard's receive path, since creation. */
export interface ShardStats {
  /** WebSocket messages received (compressed fragments included). */
  readonly framesReceived: number;
  /** Complete gateway payloads (after inflating). */
  readonly payloadsReceived: number;
  /** Dispatches fully decoded (JSON.parse). */
  readonly dispatchesDecoded: number;
  /** Dispatches skipped by the EventTypeFlags filter: peeked only, sequence still tracked. */
  readonly dispatchesSkipped: number;
  /** Dispatches dropped because their `s` was already seen in this session (never re-delivered). */
  readonly duplicatesDropped: number;
  /** Frames that could not be decoded or broke the protocol (each reported as SHARD_ERROR). */
  readonly badFrames: number;
  /** Heartbeats sent (scheduled and requested). */
  readonly heartbeatsSent: number;
  /** User commands sent. */
  readonly commandsSent: number;
  /** Events dropped because an `events()` buffer was full. */
  readonly eventsDropped: number;
  /** WebSocket connections opened (attempts). */
  readonly connections: number;
}

interface PendingCommand {
  readonly op: number;
  /** An op 3 that already holds a presence slot (kept across a reconnect). */
  presenceSlot: boolean;
  readonly data: string | Buffer;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

type MutableStats = { -readonly [K in keyof ShardStats]: ShardStats[K] };

const API_VERSION = 10;
/** Close code for deliberate reconnects: never 1000/1001, which end the session (GW-GT-2). */
const RECONNECT_CLOSE_CODE = 4000;
/** Real-time grace for a closing socket's close handshake before it is terminated. */
const CLOSE_GRACE_MS = 2_000;
const MAX_REASON_LENGTH = 120;
/**
 * RESUMEs in a row that end before RESUMED, after which the shard identifies a new session
 * (GW-GT-13): a dispatch the shard can never take (over a size cap, undecodable) is replayed
 * by every RESUME, so resuming again would loop forever.
 */
const MAX_FAILED_RESUMES = 3;
/** Fewer user command slots per window than this after the heartbeat reserve earns a warning. */
const MIN_COMMAND_SLOTS = 10;

const DISPATCH_NAMES: ReadonlySet<string> = new Set(Object.values(GatewayDispatchEvents));
const NO_DISPATCHES: ReadonlySet<string> = new Set();
/**
 * The dispatch-name sets of the filters in use, one per distinct filter and shared by every
 * shard with that filter: a set of every dispatch name is ~2.6 KiB of heap, and the shards of
 * a cluster share one filter.
 */
const wantedByFlags = new Map<EventTypeFlags, ReadonlySet<string>>();
/** Distinct filters kept; beyond it the cache starts over (filters change rarely). */
const MAX_CACHED_FILTERS = 32;
const PRIVILEGED_INTENTS: readonly [string, number][] = [
  ['GuildMembers', GatewayIntentBits.GuildMembers],
  ['GuildPresences', GatewayIntentBits.GuildPresences],
  ['MessageContent', GatewayIntentBits.MessageContent],
];

/**
 * One Discord gateway session over one WebSocket at a time (DESIGN.md: Shard; PROTOCOL.md
 * sections 1-11 and 15).
 *
 * States: `Disconnected -> Connecting -> Identifying | Resuming -> Active`, back to
 * `Disconnected` and a new connection after a resumable or reconnectable close,
 * `FatallyClosed` after 4004/4010-4014, `Closed` after {@link close}.
 *
 * Delivery: listeners are called synchronously, in arrival order; a listener that throws (or
 * returns a rejected promise) is logged and the shard goes on. Dispatches go out exactly once
 * per session: a dispatch whose `s` is not above the last one seen in the session is dropped.
 * The `eventTypes` filter applies to Discord dispatches and UNKNOWN_EVENT; lifecycle events
 * (`SHARD_*`) are always delivered.
 *
 * Bad frames (issue 6): a frame that cannot be decoded (bad JSON or UTF-8, corrupt or
 * over-cap compressed data, a binary frame without compression, a frame over
 * `limits.maxFrameBytes`) is reported (SHARD_ERROR + warn) and the connection is replaced
 * with a RESUME: the frame may have been a dispatch, which the gateway then replays, and a
 * broken inflate context never sees another frame. A decodable payload that breaks the
 * protocol (wrong shape, unknown op, dispatch without `t`, `s` going backwards, RESUMED
 * without a RESUME) is reported and ignored; HELLO without a usable interval reconnects;
 * READY without `session_id` re-identifies. A dispatch without `s` leaves the sequence alone
 * and is still delivered (unsequenced, so nothing is lost); unless it is RATE_LIMITED, which
 * may lack `s` (PROTOCOL.md section 20), it is also reported as a ProtocolError.
 *
 * IDENTIFY always sends `compress: false`: payload compression is not supported (transport
 * compression, `compression` option, is).
 *
 * @example
 * const shard = new Shard({ token, intents: ['Guilds', 'GuildMessages'] });
 * shard.addListener((event) => console.log(event.type));
 * await shard.connect();
 */
export class Shard {
  /** Zero-based shard id. */
  readonly id: number;
  /** Shard count (`num_shards` of IDENTIFY). */
  readonly total: number;

  private readonly config: ShardConfig;
  private readonly clock: Clock;
  private readonly queue: IdentifyQueue;
  private readonly logger: GatewayLogger;
  private readonly random: () => number;
  private readonly query: string;
  private readonly baseUrl: string;
  private readonly backoff: Backoff;
  private readonly latencyStats = new Latency();
  /** Created by the first op 3: most shards never send one. */
  private presenceLimiter: PresenceLimiter | null = null;
  private readonly prefix: string;
  /** The ETF encoding (GW-EN-2) when `encoding: 'etf'`; `null` is the JSON path. */
  private readonly etf: PayloadEncoding | null;

  private currentState = ShardState.Disconnected;
  private sessionId: string | null = null;
  private sequence: number | null = null;
  private resumeUrl: string | null = null;
  private conn: Connection | null = null;
  private generation = 0;
  /** A connection is wanted: between connect() and close() or a fatal stop. */
  private running = false;
  private reconnectTimer: TimerHandle | undefined;
  private reconnectImmediate: NodeJS.Immediate | undefined;
  private resumeUrlFailures = 0;
  private failedResumes = 0;
  private reconnectCount = 0;
  private lastCloseInfo: ShardInfo['lastClose'] = null;
  private activeSince: number | null = null;
  private fatalError: GatewayError | null = null;
  private closing: Promise<Session | null> | null = null;

  private flags: EventTypeFlags;
  private wanted: ReadonlySet<string> = NO_DISPATCHES;
  private wantUnknown = false;
  /**
   * Every dispatch is decoded (the default, EventTypeFlags.ALL): the filter could never skip
   * one, so the receive path goes straight to the full decode, without the hint or the peek.
   */
  private decodeAll = false;
  private warnedCommandSlots = false;
  private listeners: GatewayEventListener[] = [];
  /** Created by the first events() call: most shards only have listeners. */
  private buffers: Set<EventBuffer<GatewayEvent>> | null = null;
  private retiredDropped = 0;

  private connectWaiters: Waiter[] = [];
  private outbox: PendingCommand[] = [];
  private pumping = false;
  /** Sockets whose close handshake is still running; created by the first close. */
  private closingSockets: Set<WebSocket> | null = null;

  private pendingGuilds: Set<string> | null = null;
  private guildCount = 0;
  private guildsTimer: TimerHandle | undefined;

  private recorder: PayloadRecorder | null = null;
  private readonly counters: MutableStats = {
    framesReceived: 0,
    payloadsReceived: 0,
    dispatchesDecoded: 0,
    dispatchesSkipped: 0,
    duplicatesDropped: 0,
    badFrames: 0,
    heartbeatsSent: 0,
    commandsSent: 0,
    eventsDropped: 0,
    connections: 0,
  };

  /**
   * @param options see `ShardOptions` (token and intents required).
   * @throws ConfigError listing every invalid option; also for `encoding: 'etf'` when the
   *   optional `erlpack` addon is not installed.
   */
  constructor(options: ShardOptions, deps: ShardDeps = {}) {
    this.config = normalizeShardOptions(options);
    this.etf = this.config.encoding === 'etf' ? createEtfEncoding() : null;
    if (this.config.encoding === 'etf' && this.etf === null) {
      throw new ConfigError([
        {
          path: 'encoding',
          rule: "'etf' needs the optional dependency erlpack, which is not installed or did not build; use 'json'",
        },
      ]);
    }
    this.id = this.config.shardId;
    this.total = this.config.shardCount;
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? consoleLogger('warn');
    this.random = deps.random ?? Math.random;
    this.queue = deps.queue ?? new InMemoryIdentifyQueue({ maxConcurrency: 1, clock: this.clock });
    this.prefix = `Shard ${this.id}/${this.total}:`;
    const compress =
      this.config.compression === 'none' ? '' : `&compress=${this.config.compression}`;
    this.query = `/?v=${API_VERSION}&encoding=${this.config.encoding}${compress}`;
    this.baseUrl = stripUrl(this.config.gatewayUrl);
    this.backoff = new Backoff(
      this.config.reconnect.baseDelayMs,
      this.config.reconnect.maxDelayMs,
      this.random,
    );
    this.flags = this.config.eventTypes;
    this.applyFlags();
    const session = this.config.session;
    if (session) {
      this.sessionId = session.id;
      this.sequence = session.sequence;
      this.resumeUrl = session.resumeUrl || null;
    }
  }

  /** The current state; every change is also emitted as SHARD_STATE_CHANGED. */
  get state(): ShardState {
    return this.currentState;
  }

  /**
   * What a RESUME needs (GW-RS-1), or `null` when there is no session. Pass it as the
   * `session` option of a new shard to resume on its first connect.
   */
  get session(): Session | null {
    if (this.sessionId === null || this.sequence === null) return null;
    return { id: this.sessionId, sequence: this.sequence, resumeUrl: this.resumeUrl ?? '' };
  }

  /** Heartbeat round trips (ms): average over all samples and the most recent few. */
  get latency(): LatencySnapshot {
    return this.latencyStats.snapshot();
  }

  /** Receive-path counters (a copy). */
  get stats(): ShardStats {
    let dropped = this.retiredDropped;
    if (this.buffers !== null) for (const buffer of this.buffers) dropped += buffer.dropped;
    return { ...this.counters, eventsDropped: dropped };
  }

  /**
   * The decode filter: dispatches whose type is not set are not decoded (only peeked, their
   * sequence tracked) and not delivered. Setting it takes effect from the next frame.
   */
  get eventTypes(): EventTypeFlags {
    return this.flags;
  }

  set eventTypes(flags: EventTypeFlags) {
    this.flags = flags;
    this.applyFlags();
  }

  info(): ShardInfo {
    return {
      id: this.id,
      total: this.total,
      state: this.currentState,
      latency: this.latencyStats.snapshot(),
      sessionId: this.sessionId,
      sequence: this.sequence,
      reconnects: this.reconnectCount,
      lastClose: this.lastCloseInfo,
      activeSince: this.activeSince,
    };
  }

  /** Adds a listener of every event of this shard; returns its unsubscribe function. */
  addListener(listener: GatewayEventListener): () => void {
    this.listeners = this.listeners.concat(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /**
   * The shard's events as an AsyncIterable over a bounded buffer (default `bufferSize`
   * option, 1000): when the consumer falls behind, new events are dropped, counted
   * (`stats.eventsDropped`) and logged once per burst. Ends after close() or a fatal stop,
   * once the buffered events are consumed; `break` unsubscribes.
   */
  events(options: { bufferSize?: number } = {}): AsyncIterableIterator<GatewayEvent> {
    const capacity = options.bufferSize ?? this.config.bufferSize;
    let unsubscribe: () => void = () => {};
    const buffer: EventBuffer<GatewayEvent> = new EventBuffer<GatewayEvent>(
      capacity,
      warnOnOverflow(this.logger, this.prefix, capacity),
      () => {
        unsubscribe();
        if (this.buffers?.delete(buffer)) this.retiredDropped += buffer.dropped;
      },
    );
    (this.buffers ??= new Set()).add(buffer);
    unsubscribe = this.addListener((event) => buffer.push(event));
    return buffer;
  }

  /**
   * Starts the shard (resuming when a session exists, else identifying through the queue).
   * Resolves when the shard is first Active. Rejects with FatalCloseError on a fatal close
   * code and with ShardClosedError when close() comes first. Calling it again while running
   * returns a promise for the same moment.
   */
  connect(): Promise<void> {
    if (this.currentState === ShardState.FatallyClosed && this.fatalError !== null) {
      return Promise.reject(this.fatalError);
    }
    if (this.currentState === ShardState.Active) return Promise.resolve();
    const ready = new Promise<void>((resolve, reject) => {
      this.connectWaiters.push({ resolve, reject });
    });
    if (!this.running) {
      this.running = true;
      this.closing = null;
      if (this.config.recordTo !== null && this.recorder === null) {
        try {
          this.recorder = new PayloadRecorder(this.config.recordTo);
        } catch (error) {
          this.logger.error(`${this.prefix} cannot open the recordTo file; not recording`, error);
        }
      }
      this.openConnection();
    }
    return ready;
  }

  /**
   * Sends a payload once the shard is Active (identified or resumed): commands queue in
   * order, survive reconnects, and respect the per-connection send limit (GW-RL-1) and, for
   * op 3, the presence limit (GW-RL-4). Resolves when the payload was written to the socket.
   *
   * @throws (rejects) PayloadTooLargeError over 4096 bytes (GW-ENV-4), before the socket;
   *   ShardClosedError when the shard is or becomes closed first.
   */
  send(payload: GatewayCommand): Promise<void> {
    if (this.currentState === ShardState.Closed || this.currentState === ShardState.FatallyClosed) {
      return Promise.reject(new ShardClosedError(this.id, `op ${payload.op} send`));
    }
    let data: string | Buffer;
    try {
      data = serializePayload(buildCommand(payload), this.etf ?? undefined);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      this.outbox.push({ op: payload.op, presenceSlot: false, data, resolve, reject });
      this.pump();
    });
  }

  /**
   * Op 3 Update Presence (at most 5 per 20 s, GW-RL-4); omitted fields default to `since: null`,
   * `activities: []`, `status: 'online'`, `afk: false`. @throws (rejects) CommandError on a bad shape.
   */
  updatePresence(data: PresenceInput): Promise<void> {
    return this.sendBuilt(() => buildUpdatePresence(data));
  }

  /** Op 8 Request Guild Members (nonce <= 32 bytes, GW-GT-19). @throws (rejects) CommandError. */
  requestGuildMembers(data: GatewayRequestGuildMembersData): Promise<void> {
    return this.sendBuilt(() => buildRequestGuildMembers(data));
  }

  /** Op 4 Update Voice State. @throws (rejects) CommandError. */
  updateVoiceState(data: Parameters<typeof buildUpdateVoiceState>[0]): Promise<void> {
    return this.sendBuilt(() => buildUpdateVoiceState(data));
  }

  /** Op 31 Request Soundboard Sounds. @throws (rejects) CommandError. */
  requestSoundboardSounds(data: GatewayRequestSoundboardSoundsData): Promise<void> {
    return this.sendBuilt(() => buildRequestSoundboardSounds(data));
  }

  /** Op 43 Request Channel Info. @throws (rejects) CommandError. */
  requestChannelInfo(data: GatewayRequestChannelInfoData): Promise<void> {
    return this.sendBuilt(() => buildRequestChannelInfo(data));
  }

  /**
   * Closes the shard at any moment (mid-handshake, while queued for IDENTIFY, while backing
   * off); never throws. With 1000 (or 1001) the session ends and the bot goes offline at
   * once (GW-CL-1) and `null` is returned. The gateway can only end a session it knows on
   * this connection: from Resuming on (the RESUME is sent before that state is entered) it
   * does; closed before (connecting, backing off) it keeps the session until it expires,
   * though the shard drops it all the same. With any other code (3000-4999) the session is
   * kept and returned, so a later shard can resume it. Afterwards no timer, listener or
   * socket of the shard remains; pending commands and connect() reject with ShardClosedError.
   */
  close(code = 1000): Promise<Session | null> {
    if (this.closing !== null) return this.closing;
    this.closing = this.shutdown(code).catch((error: unknown) => {
      this.logger.error(`${this.prefix} error while closing`, error);
      return this.session;
    });
    return this.closing;
  }

  /** Safe for logs: never shows the token. */
  toJSON(): ShardInfo {
    return this.info();
  }

  [inspect.custom](): string {
    return `Shard { id: ${this.id}, total: ${this.total}, state: '${this.currentState}' }`;
  }

  private async shutdown(code: number): Promise<Session | null> {
    const wasRunning = this.running;
    this.running = false;
    this.cancelReconnect();
    this.stopGuildTracking();
    const conn = this.conn;
    if (conn !== null) {
      this.endConnection(conn, code);
      this.lastCloseInfo = { code, reason: 'closed by the user' };
    }
    if (code === 1000 || code === 1001) this.dropSession();
    if (this.currentState !== ShardState.FatallyClosed) this.setState(ShardState.Closed);
    if (conn !== null && wasRunning) {
      this.emit(EventType.ShardDisconnected, { code, reason: 'closed by the user', next: 'stop' });
    }
    this.rejectAll(new ShardClosedError(this.id, 'connect'), new ShardClosedError(this.id, 'send'));
    this.endBuffers();
    this.presenceLimiter?.reset();
    this.recorder?.close();
    this.recorder = null;
    await this.drainClosingSockets();
    // A shard that had already stopped (fatal close code, or never connected) sent nothing now.
    if (conn !== null && wasRunning) this.logger.log(`${this.prefix} closed with ${code}`);
    else this.logger.debug(`${this.prefix} closed (was not connected)`);
    return this.session;
  }

  // ---- connection lifecycle -------------------------------------------------------------

  private openConnection(): void {
    this.reconnectTimer = undefined;
    this.reconnectImmediate = undefined;
    if (!this.running) return;
    const resuming = this.sessionId !== null && this.sequence !== null;
    const viaResumeUrl = resuming && this.resumeUrl !== null;
    const url = (viaResumeUrl ? (this.resumeUrl as string) : this.baseUrl) + this.query;
    const conn = new Connection(this.clock, ++this.generation, url, resuming, viaResumeUrl);
    this.conn = conn;
    this.counters.connections++;
    this.setState(ShardState.Connecting);
    this.logger.debug(`${this.prefix} connecting to ${url} (${resuming ? 'resume' : 'identify'})`);
    let socket: WebSocket;
    try {
      socket = new WebSocket(url, {
        maxPayload: this.config.limits.maxFrameBytes,
        perMessageDeflate: false,
        // decodeJson checks UTF-8 strictly on what is decoded; a dispatch the filter skips is never read as text.
        skipUTF8Validation: true,
      });
    } catch (error) {
      this.logger.warn(`${this.prefix} cannot open a WebSocket to ${url}: ${describeError(error)}`);
      this.connectionEnded(conn, null, 'socket could not be created', 'resume');
      return;
    }
    conn.socket = socket;
    socket.on('open', () => this.onOpen(conn));
    socket.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(conn, data, isBinary));
    socket.on('error', (error: Error) => this.onSocketError(conn, error));
    socket.on('close', (code: number, reason: Buffer) => this.onSocketClose(conn, code, reason));
    const connectMs = this.config.timeouts.connectMs;
    conn.setTimer(() => this.onTimeout(conn, 'the WebSocket to open', connectMs), connectMs);
  }

  private onOpen(conn: Connection): void {
    if (conn !== this.conn || conn.ended) return;
    conn.opened = true;
    conn.clearTimers();
    if (this.config.compression !== 'none') {
      try {
        conn.inflater = createInflater(this.config.compression, {
          maxInflatedBytes: this.config.limits.maxInflatedBytes,
        });
        this.logger.debug(`${this.prefix} inflating with ${conn.inflater.implementation}`);
      } catch (error) {
        this.logger.error(
          `${this.prefix} cannot create the ${this.config.compression} inflater`,
          error,
        );
        this.restart(conn, RECONNECT_CLOSE_CODE, 'no inflater', 'resume');
        return;
      }
    }
    const helloMs = this.config.timeouts.helloMs;
    conn.setTimer(() => this.onTimeout(conn, 'HELLO', helloMs), helloMs);
    this.logger.debug(
      `${this.prefix} connected; decoding with ${this.etf === null ? 'JSON.parse' : 'erlpack (etf)'}; ws frames ${hasBufferutil() ? 'with bufferutil' : 'without bufferutil (JS fallback)'}`,
    );
    this.emit(EventType.ShardConnected, { url: conn.url, resuming: conn.resuming });
  }

  private onSocketError(conn: Connection, error: Error): void {
    if (conn !== this.conn || conn.ended) return;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('WS_ERR_')) {
      // ws rejected a frame (over maxPayload, invalid UTF-8 in a text frame, ...) and is closing.
      this.reportBadFrame(new DecodeError(`WebSocket frame rejected: ${error.message}`));
    } else {
      this.logger.warn(`${this.prefix} WebSocket error: ${error.message}`);
    }
  }

  private onSocketClose(conn: Connection, code: number, reason: Buffer): void {
    if (conn !== this.conn || conn.ended) return;
    const closeCode = code === 1005 || code === 1006 ? null : code;
    const text = reason.toString('utf8').slice(0, MAX_REASON_LENGTH);
    const policy = closeCodePolicy(closeCode);
    if (conn.opened) {
      this.logger.warn(
        closeCode === null
          ? `${this.prefix} connection lost without a close frame (${policy.reason})`
          : `${this.prefix} connection closed by the gateway with ${closeCode} (${policy.reason}${text ? `: ${text}` : ''})`,
      );
    } else {
      // The socket never opened; onSocketError already said why (refused, 503, DNS, ...).
      this.logger.debug(`${this.prefix} the connection attempt ended before the socket opened`);
    }
    this.endConnection(conn, null);
    this.connectionEnded(conn, closeCode, text || policy.reason, policy.action);
  }

  /**
   * Ends `conn` on our initiative: `closeCode` sends a close frame (never 1000/1001 for a
   * reconnect, GW-GT-2), `null` terminates the socket at once (zombie, timeouts).
   */
  private restart(
    conn: Connection,
    closeCode: number | null,
    reason: string,
    action: CloseAction,
    minDelayMs = 0,
  ): void {
    if (conn.ended) return;
    this.endConnection(conn, closeCode);
    this.connectionEnded(conn, closeCode, reason, action, minDelayMs);
  }

  /** Tears down everything `conn` owns; its socket gets `closeCode` or is terminated (`null`). */
  private endConnection(conn: Connection, closeCode: number | null): void {
    conn.end();
    if (this.conn === conn) {
      this.conn = null;
      this.pumping = false;
    }
    const socket = conn.socket;
    conn.socket = null;
    if (socket === null) return;
    socket.removeAllListeners();
    socket.on('error', ignore);
    if (socket.readyState === WebSocket.CLOSED) return;
    const closing = (this.closingSockets ??= new Set());
    closing.add(socket);
    socket.once('close', () => closing.delete(socket));
    if (closeCode === null || socket.readyState !== WebSocket.OPEN) {
      socket.terminate();
      return;
    }
    try {
      socket.close(closeCode);
    } catch {
      socket.terminate();
    }
  }

  /** Decides what follows a connection's end: stop, or reconnect (resume or identify). */
  private connectionEnded(
    conn: Connection,
    code: number | null,
    reason: string,
    action: CloseAction,
    minDelayMs = 0,
  ): void {
    this.lastCloseInfo = { code, reason };
    this.activeSince = null;
    if (!this.running) return;
    if (conn.viaResumeUrl && !conn.helloReceived) {
      this.resumeUrlFailures++;
      if (
        this.resumeUrlFailures >= this.config.reconnect.resumeUrlFailures &&
        this.resumeUrl !== null
      ) {
        this.logger.warn(
          `${this.prefix} the resume URL failed ${this.resumeUrlFailures} times in a row; resuming on the base URL (GW-GT-1)`,
        );
        this.resumeUrl = null;
        this.resumeUrlFailures = 0;
      }
    }
    if (action === 'fatal') {
      this.stopFatally(
        new FatalCloseError(
          this.id,
          code ?? 0,
          closeCodePolicy(code).reason,
          code === 4014 ? this.privilegedIntents() : [],
        ),
        code ?? 0,
      );
      return;
    }
    if (conn.resuming && conn.handshakeSent && !conn.active && action === 'resume') {
      this.failedResumes++;
      if (this.failedResumes >= MAX_FAILED_RESUMES && this.canResume()) {
        this.logger.warn(
          `${this.prefix} RESUME failed ${this.failedResumes} times in a row; identifying a new session (GW-GT-13)`,
        );
        action = 'identify';
      }
    }
    if (action === 'identify') this.dropSession();
    const next = this.canResume() ? 'resume' : 'identify';
    this.setState(ShardState.Disconnected);
    this.emit(EventType.ShardDisconnected, { code, reason, next });
    this.scheduleReconnect(minDelayMs);
  }

  private scheduleReconnect(minDelayMs: number): void {
    const delayMs = Math.max(this.backoff.next(), minDelayMs);
    this.reconnectCount++;
    const resume = this.canResume();
    this.logger.debug(
      `${this.prefix} reconnecting in ${delayMs} ms (attempt ${this.backoff.attempts}, ${resume ? 'resume' : 'identify'})`,
    );
    this.emit(EventType.ShardReconnecting, { attempt: this.backoff.attempts, delayMs, resume });
    if (!this.running) return;
    if (delayMs === 0) {
      this.reconnectImmediate = setImmediate(() => this.openConnection());
    } else {
      this.reconnectTimer = this.clock.setTimeout(() => this.openConnection(), delayMs);
    }
  }

  private cancelReconnect(): void {
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (this.reconnectImmediate !== undefined) clearImmediate(this.reconnectImmediate);
    this.reconnectImmediate = undefined;
  }

  private stopFatally(error: GatewayError, code: number): void {
    this.running = false;
    this.fatalError = error;
    this.cancelReconnect();
    // A fatal close (4004, 4010-4014) ends the session for good: nothing left to store or resume.
    this.dropSession();
    if (this.conn !== null) this.endConnection(this.conn, RECONNECT_CLOSE_CODE);
    // FatalCloseError messages name the shard already.
    this.logger.error(
      error instanceof FatalCloseError ? error.message : `${this.prefix} ${error.message}`,
    );
    this.setState(ShardState.FatallyClosed);
    this.emit(EventType.ShardDisconnected, { code, reason: error.message, next: 'stop' });
    this.emit(EventType.ShardFatal, { code, error });
    this.rejectAll(error, error);
    this.endBuffers();
    this.presenceLimiter?.reset();
    this.recorder?.close();
    this.recorder = null;
  }

  private onTimeout(conn: Connection, phase: string, timeoutMs: number): void {
    if (conn !== this.conn || conn.ended) return;
    const error = new GatewayTimeoutError(phase, timeoutMs);
    this.logger.warn(`${this.prefix} ${error.message}; reconnecting`);
    this.emit(EventType.ShardError, { error });
    this.restart(conn, null, error.message, 'resume');
  }

  private onZombie(conn: Connection): void {
    if (conn !== this.conn || conn.ended) return;
    this.logger.warn(
      `${this.prefix} no heartbeat ACK and no frame between two heartbeats: zombie connection, resuming (GW-HB-4)`,
    );
    this.restart(conn, null, 'zombie connection (no heartbeat ACK)', 'resume');
  }

  // ---- receive path ---------------------------------------------------------------------

  private onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    if (conn !== this.conn || conn.ended) return;
    this.counters.framesReceived++;
    if (conn.heartbeat !== null) conn.heartbeat.frameSinceBeat = true;
    let message: Buffer = data;
    if (isBinary && (conn.inflater !== null || this.etf === null)) {
      if (conn.inflater === null) {
        this.badFrameReconnect(
          conn,
          new DecodeError(`Binary frame (${data.length} bytes) but no compression was negotiated`),
        );
        return;
      }
      let inflated: Buffer | null;
      try {
        inflated = conn.inflater.push(data);
      } catch (error) {
        this.badFrameReconnect(conn, asDecodeError(error));
        return;
      }
      if (inflated === null) return;
      message = inflated;
    }
    this.counters.payloadsReceived++;
    if (this.etf !== null) {
      this.onEtfMessage(conn, message);
      return;
    }

    if (!this.decodeAll) {
      // A dispatch whose leading `t` is wanted is decoded anyway: no need to walk its `d` first.
      const hint = dispatchTypeHint(message);
      const header = hint !== null && this.mustDecode(hint) ? null : peekHeader(message);
      if (
        header !== null &&
        header.op === GatewayOpcodes.Dispatch &&
        header.t !== null &&
        header.s !== null &&
        !this.mustDecode(header.t)
      ) {
        this.recorder?.write(message);
        this.skipDispatch(conn, header.s);
        return;
      }
    }

    let payload: unknown;
    try {
      payload = decodeJson(message);
    } catch (error) {
      this.badFrameReconnect(conn, asDecodeError(error));
      return;
    }
    this.recorder?.write(message);
    this.onPayload(conn, payload);
  }

  /** ETF has no cheap header peek: every message is decoded, the filter applies at delivery. */
  private onEtfMessage(conn: Connection, message: Buffer): void {
    let payload: unknown;
    try {
      payload = this.etf!.decode(message);
    } catch (error) {
      this.badFrameReconnect(conn, asDecodeError(error));
      return;
    }
    this.recorder?.write(JSON.stringify(payload));
    this.onPayload(conn, payload);
  }

  private mustDecode(t: string): boolean {
    return (
      this.wanted.has(t) ||
      t === 'READY' ||
      t === 'RESUMED' ||
      (this.pendingGuilds !== null && (t === 'GUILD_CREATE' || t === 'GUILD_DELETE')) ||
      (this.wantUnknown && !DISPATCH_NAMES.has(t))
    );
  }

  private skipDispatch(conn: Connection, s: number): void {
    if (!this.advanceSequence(conn, s)) return;
    if (conn.resuming && !conn.active) conn.replayed++;
    this.counters.dispatchesSkipped++;
  }

  /**
   * Records `s` of a dispatch (GW-GT-5). Returns false for a dispatch already seen in this
   * session (`s` not above the last one): it is dropped, so nothing is delivered twice.
   */
  private advanceSequence(conn: Connection, s: number): boolean {
    if (this.sequence !== null && s <= this.sequence) {
      this.counters.duplicatesDropped++;
      this.reportBadFrame(
        new ProtocolError(
          `Dispatch with sequence ${s} after ${this.sequence} in the same session; dropped (never delivered twice)`,
        ),
      );
      return false;
    }
    this.sequence = s;
    return true;
  }

  private onPayload(conn: Connection, payload: unknown): void {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      this.reportBadFrame(new ProtocolError('Gateway payload is not a JSON object; ignored'));
      return;
    }
    const { op, d, s, t } = payload as { op?: unknown; d?: unknown; s?: unknown; t?: unknown };
    if (typeof op !== 'number' || !Number.isInteger(op)) {
      this.reportBadFrame(new ProtocolError('Gateway payload has no integer op; ignored'));
      return;
    }
    switch (op) {
      case GatewayOpcodes.Dispatch:
        this.onDispatch(conn, t, s, d);
        return;
      case GatewayOpcodes.Heartbeat:
        this.logger.debug(`${this.prefix} <- op 1 HEARTBEAT request`);
        conn.heartbeat?.requested();
        return;
      case GatewayOpcodes.HeartbeatAck:
        conn.heartbeat?.ack();
        return;
      case GatewayOpcodes.Hello:
        this.onHello(conn, d);
        return;
      case GatewayOpcodes.Reconnect:
        this.logger.debug(`${this.prefix} <- op 7 RECONNECT`);
        this.restart(conn, RECONNECT_CLOSE_CODE, 'op 7 RECONNECT', 'resume');
        return;
      case GatewayOpcodes.InvalidSession:
        this.onInvalidSession(conn, d === true);
        return;
      default:
        this.reportBadFrame(new ProtocolError(`Unknown opcode ${op}; ignored (GW-ENV-3)`));
        if (this.wantUnknown) {
          this.deliver(EventType.UnknownEvent, { op, t: asString(t), s: asInteger(s), d }, null);
        }
    }
  }

  private onDispatch(conn: Connection, t: unknown, s: unknown, d: unknown): void {
    if (s !== null && s !== undefined && !isSequence(s)) {
      this.reportBadFrame(new ProtocolError('Dispatch with a non-integer s; ignored'));
      return;
    }
    const sequence = (s as number | null | undefined) ?? null;
    if (sequence !== null && !this.advanceSequence(conn, sequence)) return;
    // A replayed dispatch (GW-RS-3), named or not: between RESUME and RESUMED, RESUMED itself not.
    if (conn.resuming && !conn.active && sequence !== null && t !== 'RESUMED') conn.replayed++;
    if (typeof t !== 'string') {
      this.reportBadFrame(
        new ProtocolError('Dispatch without t; its sequence is kept, the event dropped'),
      );
      return;
    }
    if (sequence === null && t !== 'RATE_LIMITED') {
      this.reportBadFrame(
        new ProtocolError(
          `Dispatch ${t.slice(0, 64)} without s; delivered unsequenced, the sequence left alone`,
        ),
      );
    }
    this.counters.dispatchesDecoded++;
    if (t === 'READY') {
      this.onReady(conn, d, sequence);
      return;
    }
    if (t === 'RESUMED') {
      this.onResumed(conn, d, sequence);
      return;
    }
    if (this.wanted.has(t)) {
      this.deliver(t as EventType, d, sequence);
    } else if (this.wantUnknown && !DISPATCH_NAMES.has(t)) {
      this.deliver(EventType.UnknownEvent, { op: 0, t, s: sequence, d }, sequence);
    }
    if (this.pendingGuilds !== null && (t === 'GUILD_CREATE' || t === 'GUILD_DELETE')) {
      this.guildArrived(d);
    }
  }

  private onHello(conn: Connection, d: unknown): void {
    if (conn.helloReceived) {
      this.reportBadFrame(new ProtocolError('Second HELLO on one connection; ignored'));
      return;
    }
    const interval = (d as { heartbeat_interval?: unknown } | null)?.heartbeat_interval;
    // Above MAX_TIMER_MS a timer fires at once (Node clamps it to 1 ms): a heartbeat storm.
    if (
      typeof interval !== 'number' ||
      !Number.isFinite(interval) ||
      interval <= 0 ||
      interval > MAX_TIMER_MS
    ) {
      this.badFrameReconnect(
        conn,
        new ProtocolError(
          `HELLO without a heartbeat_interval in (0, ${MAX_TIMER_MS}] ms; reconnecting`,
        ),
      );
      return;
    }
    conn.helloReceived = true;
    conn.clearTimers();
    if (conn.viaResumeUrl) this.resumeUrlFailures = 0;
    this.logger.debug(`${this.prefix} <- op 10 HELLO (heartbeat every ${interval} ms)`);
    conn.limiter = new CommandRateLimiter({
      clock: this.clock,
      heartbeatIntervalMs: interval,
      limit: this.config.limits.commandsPerWindow,
      windowMs: this.config.limits.commandWindowMs,
      heartbeatReserve: this.config.limits.heartbeatReserve,
    });
    const commandSlots = this.config.limits.commandsPerWindow - conn.limiter.heartbeatReserve;
    if (commandSlots < MIN_COMMAND_SLOTS && !this.warnedCommandSlots) {
      this.warnedCommandSlots = true;
      this.logger.warn(
        `${this.prefix} a ${interval} ms heartbeat leaves only ${commandSlots} command(s) per ` +
          `${this.config.limits.commandWindowMs} ms window; against a test gateway with a short ` +
          `interval, shorten limits.commandWindowMs to match its send window`,
      );
    }
    conn.heartbeat = new Heartbeat(
      this.clock,
      interval,
      this.random,
      { sendHeartbeat: () => this.sendHeartbeat(conn), onZombie: () => this.onZombie(conn) },
      this.latencyStats,
    );
    conn.heartbeat.frameSinceBeat = true;
    conn.heartbeat.start();
    if (conn.resuming) this.sendResume(conn);
    else this.identify(conn);
  }

  private identify(conn: Connection): void {
    this.setState(ShardState.Identifying);
    this.queue.enqueue(this.id, conn.signal).then(
      () => {
        if (conn !== this.conn || conn.ended) return;
        conn.releaseSignal();
        this.sendIdentify(conn);
      },
      (error: unknown) => {
        if (conn.ended || error instanceof AbortedError) return;
        const failure =
          error instanceof GatewayError
            ? error
            : new ShardClosedError(this.id, 'wait in the identify queue');
        this.logger.error(`${this.prefix} the identify queue refused: ${describeError(error)}`);
        this.stopFatally(failure, 0);
      },
    );
  }

  private sendIdentify(conn: Connection): void {
    // A new session starts: the sequence starts again with READY (GW-GT-5).
    this.sequence = null;
    const config = this.config;
    let frame: string | Buffer;
    try {
      frame = this.encodeHandshake({
        op: GatewayOpcodes.Identify,
        d: {
          token: config.token.reveal(),
          properties: config.identifyProperties,
          compress: false,
          large_threshold: config.largeThreshold,
          shard: [this.id, this.total],
          ...(config.presence === null ? {} : { presence: config.presence }),
          intents: config.intents,
        },
      });
    } catch (error) {
      // Only an oversized presence can do this; no retry can fix it (GW-GT-15).
      this.stopFatally(error as GatewayError, 0);
      return;
    }
    this.logger.debug(`${this.prefix} -> op 2 IDENTIFY (shard [${this.id}, ${this.total}])`);
    conn.limiter?.acquireHeartbeat();
    this.sendNow(conn, frame);
    conn.handshakeSent = true;
    this.armReadyTimer(conn, 'READY');
  }

  private sendResume(conn: Connection): void {
    const frame = this.encodeHandshake({
      op: GatewayOpcodes.Resume,
      d: { token: this.config.token.reveal(), session_id: this.sessionId, seq: this.sequence },
    });
    this.logger.debug(`${this.prefix} -> op 6 RESUME (seq ${this.sequence})`);
    conn.limiter?.acquireHeartbeat();
    this.sendNow(conn, frame);
    conn.handshakeSent = true;
    // Resuming only once the RESUME is on the wire: a close(1000) from a listener of this
    // state change then reaches the gateway after it, so the gateway knows which session
    // the close ends (GW-CL-1) instead of keeping it until it expires.
    this.setState(ShardState.Resuming);
    this.armReadyTimer(conn, 'RESUMED');
  }

  private armReadyTimer(conn: Connection, what: string): void {
    const readyMs = this.config.timeouts.readyMs;
    conn.setTimer(() => this.onTimeout(conn, what, readyMs), readyMs);
  }

  /**
   * READY's `resume_gateway_url` (GW-URL-4), held to the rules of a configured gateway URL: the
   * RESUME sent there carries the token. It must be `wss:` (or `ws:` to a loopback host, and
   * never `ws:` when the base URL is `wss:`, unless `allowInsecureGateway`), with no
   * credentials, path, query or fragment. Anything else is reported as a ProtocolError and
   * the session resumes through the base URL. Absent or empty: the base URL, silently.
   */
  private checkResumeUrl(value: unknown): string | null {
    if (value === undefined || value === null || value === '') return null;
    const checked = checkResumeUrl(
      typeof value === 'string' ? value.replace(/\/+$/, '') : value,
      this.baseUrl,
      this.config.allowInsecureGateway,
    );
    if ('url' in checked) return checked.url;
    this.reportBadFrame(
      new ProtocolError(
        `READY resume_gateway_url ${checked.rule}; RESUME will use the gateway URL`,
      ),
    );
    return null;
  }

  private onReady(conn: Connection, d: unknown, sequence: number | null): void {
    const ready = d as {
      session_id?: unknown;
      resume_gateway_url?: unknown;
      guilds?: unknown;
    } | null;
    if (
      ready === null ||
      typeof ready !== 'object' ||
      typeof ready.session_id !== 'string' ||
      ready.session_id === ''
    ) {
      this.badFrameReconnect(
        conn,
        new ProtocolError('READY without session_id; identifying again'),
        'identify',
      );
      return;
    }
    this.sessionId = ready.session_id;
    this.resumeUrl = this.checkResumeUrl(ready.resume_gateway_url);
    this.resumeUrlFailures = 0;
    const guildIds: string[] = [];
    if (Array.isArray(ready.guilds)) {
      for (const guild of ready.guilds as { id?: unknown }[]) {
        if (typeof guild?.id === 'string') guildIds.push(guild.id);
      }
    }
    this.logger.log(`${this.prefix} READY (session ${this.sessionId}, ${guildIds.length} guilds)`);
    this.becomeActive(conn);
    if (this.wanted.has('READY')) this.deliver(EventType.Ready, d, sequence);
    // A listener may have closed the shard.
    if (conn.ended) return;
    this.emit(EventType.ShardReady, { sessionId: this.sessionId, guildCount: guildIds.length });
    if (conn.ended) return;
    this.startGuildTracking(guildIds);
    this.afterActive();
  }

  private onResumed(conn: Connection, d: unknown, sequence: number | null): void {
    if (!conn.resuming || !conn.handshakeSent || conn.active) {
      this.reportBadFrame(
        new ProtocolError('RESUMED for a session this connection never resumed; ignored'),
      );
      return;
    }
    this.logger.log(
      `${this.prefix} RESUMED (session ${this.sessionId}, ${conn.replayed} replayed)`,
    );
    this.becomeActive(conn);
    if (this.wanted.has('RESUMED')) this.deliver(EventType.Resumed, d, sequence);
    if (conn.ended) return;
    this.emit(EventType.ShardResumed, {
      sessionId: this.sessionId as string,
      replayed: conn.replayed,
    });
    this.afterActive();
  }

  private becomeActive(conn: Connection): void {
    conn.active = true;
    conn.clearTimers();
    this.backoff.reset();
    this.failedResumes = 0;
    this.activeSince = this.clock.now();
    this.setState(ShardState.Active);
  }

  private afterActive(): void {
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    this.pump();
  }

  private onInvalidSession(conn: Connection, resumable: boolean): void {
    this.logger.warn(`${this.prefix} <- op 9 INVALID_SESSION (resumable: ${resumable})`);
    this.emit(EventType.ShardInvalidSession, { resumable });
    if (resumable && this.canResume()) {
      this.restart(conn, RECONNECT_CLOSE_CODE, 'op 9 INVALID_SESSION (resumable)', 'resume');
      return;
    }
    this.dropSession();
    const { min, max } = this.config.invalidSessionDelayMs;
    const delayMs = Math.round(min + (max - min) * this.random());
    this.restart(
      conn,
      RECONNECT_CLOSE_CODE,
      'op 9 INVALID_SESSION (not resumable)',
      'identify',
      delayMs,
    );
  }

  // ---- guild readiness (GW-GT-11) -------------------------------------------------------

  private startGuildTracking(guildIds: string[]): void {
    this.stopGuildTracking();
    this.guildCount = guildIds.length;
    if ((this.config.intents & GatewayIntentBits.Guilds) === 0 || guildIds.length === 0) {
      this.emit(EventType.ShardGuildsReady, {
        guildCount: guildIds.length,
        unavailable: [],
        timedOut: false,
      });
      return;
    }
    this.pendingGuilds = new Set(guildIds);
    this.armGuildsTimer();
  }

  private armGuildsTimer(): void {
    this.clock.clearTimeout(this.guildsTimer);
    this.guildsTimer = this.clock.setTimeout(() => {
      this.guildsTimer = undefined;
      this.finishGuilds(true);
    }, this.config.timeouts.guildsReadyMs);
  }

  private guildArrived(d: unknown): void {
    const id = (d as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || !this.pendingGuilds?.delete(id)) return;
    if (this.pendingGuilds.size === 0) this.finishGuilds(false);
    else this.armGuildsTimer();
  }

  private finishGuilds(timedOut: boolean): void {
    const unavailable = this.pendingGuilds === null ? [] : [...this.pendingGuilds];
    this.stopGuildTracking();
    if (timedOut) {
      this.logger.warn(
        `${this.prefix} ${unavailable.length} guilds still unavailable after ${this.config.timeouts.guildsReadyMs} ms`,
      );
    }
    this.emit(EventType.ShardGuildsReady, { guildCount: this.guildCount, unavailable, timedOut });
  }

  private stopGuildTracking(): void {
    this.clock.clearTimeout(this.guildsTimer);
    this.guildsTimer = undefined;
    this.pendingGuilds = null;
  }

  // ---- send path ------------------------------------------------------------------------

  private sendBuilt(build: () => GatewayCommand): Promise<void> {
    let payload: GatewayCommand;
    try {
      payload = build();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.send(payload);
  }

  private sendHeartbeat(conn: Connection): void {
    if (conn !== this.conn || conn.ended) return;
    this.counters.heartbeatsSent++;
    conn.limiter?.acquireHeartbeat();
    this.sendNow(
      conn,
      this.etf === null
        ? this.sequence === null
          ? '{"op":1,"d":null}'
          : `{"op":1,"d":${this.sequence}}`
        : this.etf.encode({ op: GatewayOpcodes.Heartbeat, d: this.sequence }),
    );
  }

  /**
   * IDENTIFY or RESUME in the connection's encoding, measured as sent (GW-ENV-4).
   * @throws PayloadTooLargeError over 4096 bytes.
   */
  private encodeHandshake(payload: { op: number; d: unknown }): string | Buffer {
    return serializePayload(payload, this.etf ?? undefined);
  }

  /** Writes one frame, already in the connection's encoding (JSON text or ETF). */
  private sendNow(conn: Connection, frame: string | Buffer): void {
    const socket = conn.socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) return;
    socket.send(frame);
  }

  /**
   * Sends queued user commands in order while the connection is Active: each takes a slot of
   * the connection's send budget (GW-RL-1) and, for op 3, of the presence budget (GW-RL-4).
   * Without a free slot the queue waits (one promise per wait, none on the fast path).
   */
  private pump(): void {
    if (this.pumping) return;
    const conn = this.conn;
    if (conn === null || !conn.active || conn.ended || conn.limiter === null) return;
    const limiter = conn.limiter;
    while (this.outbox.length > 0) {
      const command = this.outbox[0] as PendingCommand;
      if (command.op === GatewayOpcodes.PresenceUpdate && !command.presenceSlot) {
        const presenceLimiter = (this.presenceLimiter ??= new PresenceLimiter({
          clock: this.clock,
        }));
        if (!presenceLimiter.tryAcquire()) {
          this.waitForSlot(conn, presenceLimiter.waitForPresence(conn.signal), () => {
            command.presenceSlot = true;
          });
          return;
        }
        command.presenceSlot = true;
      }
      if (!limiter.tryAcquire()) {
        this.waitForSlot(conn, limiter.waitForCommand(conn.signal), () =>
          this.transmit(conn, command),
        );
        return;
      }
      this.transmit(conn, command);
    }
  }

  private waitForSlot(conn: Connection, wait: Promise<void>, then: () => void): void {
    this.pumping = true;
    wait.then(
      () => {
        if (conn !== this.conn || conn.ended) return;
        this.pumping = false;
        then();
        this.pump();
      },
      ignore, // the connection ended; the next Active connection pumps again
    );
  }

  private transmit(conn: Connection, command: PendingCommand): void {
    this.outbox.shift();
    this.counters.commandsSent++;
    this.sendNow(conn, command.data);
    command.resolve();
  }

  private rejectAll(connectError: Error, sendError: Error): void {
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const waiter of waiters) waiter.reject(connectError);
    const outbox = this.outbox;
    this.outbox = [];
    for (const command of outbox) command.reject(sendError);
  }

  // ---- events ---------------------------------------------------------------------------

  private applyFlags(): void {
    this.wanted = wantedDispatches(this.flags);
    this.wantUnknown = EventTypeFlags.has(this.flags, EventType.UnknownEvent);
    this.decodeAll = this.wantUnknown && this.wanted.size === DISPATCH_NAMES.size;
  }

  /** Lifecycle events: always delivered (they are rare and the cluster relies on them). */
  private emit(type: EventType, data: unknown): void {
    this.deliver(type, data, null);
  }

  private deliver(type: EventType, data: unknown, sequence: number | null): void {
    const event = { shardId: this.id, type, data, sequence } as GatewayEvent;
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        const result = (listeners[i] as (e: GatewayEvent) => unknown)(event);
        if (result instanceof Promise)
          result.catch((error: unknown) => this.onListenerError(type, error));
      } catch (error) {
        this.onListenerError(type, error);
      }
    }
  }

  private onListenerError(type: string, error: unknown): void {
    this.logger.error(`${this.prefix} a listener of ${type} threw`, error);
  }

  private endBuffers(): void {
    if (this.buffers !== null) for (const buffer of [...this.buffers]) buffer.end();
  }

  // ---- errors ---------------------------------------------------------------------------

  private reportBadFrame(error: GatewayError): void {
    this.counters.badFrames++;
    this.logger.warn(`${this.prefix} ${error.message}`);
    this.emit(EventType.ShardError, { error });
  }

  /**
   * A frame could not be used: reconnect (resuming when possible). An undecodable frame may
   * have been a dispatch; the RESUME makes the gateway replay it, so nothing is lost, and a
   * broken inflate context never decodes the next frame.
   */
  private badFrameReconnect(
    conn: Connection,
    error: GatewayError,
    action: CloseAction = 'resume',
  ): void {
    this.reportBadFrame(error);
    this.restart(conn, RECONNECT_CLOSE_CODE, error.message, action);
  }

  // ---- session --------------------------------------------------------------------------

  private canResume(): boolean {
    return this.sessionId !== null && this.sequence !== null;
  }

  private dropSession(): void {
    this.sessionId = null;
    this.sequence = null;
    this.resumeUrl = null;
    this.resumeUrlFailures = 0;
    this.failedResumes = 0;
    this.stopGuildTracking();
  }

  private privilegedIntents(): string[] {
    return PRIVILEGED_INTENTS.filter(([, bit]) => (this.config.intents & bit) !== 0).map(
      ([name]) => name,
    );
  }

  private setState(state: ShardState): void {
    const previous = this.currentState;
    if (previous === state) return;
    this.currentState = state;
    this.logger.debug(`${this.prefix} ${previous} -> ${state}`);
    this.emit(EventType.ShardStateChanged, { previous, state });
  }

  private drainClosingSockets(): Promise<void> {
    const closing = this.closingSockets;
    if (closing === null || closing.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const grace = setTimeout(() => {
        for (const socket of closing) socket.terminate();
      }, CLOSE_GRACE_MS);
      const check = (): void => {
        if (closing.size > 0) return;
        clearTimeout(grace);
        resolve();
      };
      for (const socket of closing) socket.once('close', () => setImmediate(check));
      check();
    });
  }
}

function wantedDispatches(flags: EventTypeFlags): ReadonlySet<string> {
  let wanted = wantedByFlags.get(flags);
  if (wanted !== undefined) return wanted;
  const names = new Set<string>();
  for (const type of ALL_EVENT_TYPES) {
    if (DISPATCH_NAMES.has(type) && EventTypeFlags.has(flags, type)) names.add(type);
  }
  wanted = names;
  if (wantedByFlags.size >= MAX_CACHED_FILTERS) wantedByFlags.clear();
  wantedByFlags.set(flags, wanted);
  return wanted;
}

function ignore(): void {}

function asDecodeError(error: unknown): GatewayError {
  return error instanceof GatewayError
    ? error
    : new DecodeError(describeError(error), { cause: error });
}

function isSequence(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function asInteger(value: unknown): number | null {
  return isSequence(value) ? value : null;
}

function asString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** Drops any trailing slash of a configured gateway URL before the query is appended. */
function stripUrl(url: string): string {
  return url.replace(/\/+$/, '');
}
