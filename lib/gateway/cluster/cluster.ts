import { randomBytes } from 'node:crypto';
import { parse as parsePath, join as joinPath } from 'node:path';
import { inspect } from 'node:util';
import type {
  GatewayGuildMembersChunkDispatchData,
  GatewayPresenceUpdateData,
  GatewayRateLimitedDispatchData,
  GatewayRequestGuildMembersData,
} from 'discord-api-types/v10';
import { systemClock, type Clock } from '../clock/clock.js';
import {
  normalizeClusterOptions,
  shardIdsOf,
  shardOptionsFor,
  type ClusterConfig,
  type ClusterOptions,
} from '../config/index.js';
import {
  describeError,
  AbortedError,
  IdentifyBudgetError,
  MemberRequestRateLimitedError,
  ShardClosedError,
  UnknownShardError,
} from '../errors/errors.js';
import { ALL_EVENT_TYPES, EventType } from '../events/event-type.js';
import { EventTypeFlags } from '../events/event-type-flags.js';
import type {
  GatewayEvent,
  GatewayEventListener,
  ShardGuildsReadyData,
  ShardInvalidSessionData,
} from '../events/gateway-event.js';
import { consoleLogger, type GatewayLogger } from '../logger.js';
import type { IdentifyQueue } from '../queue/identify-queue.js';
import { InMemoryIdentifyQueue, type IdentifyQueueInsight } from '../queue/in-memory-queue.js';
import { fetchGatewayBot, type GatewayBotInfo } from '../rest/gateway-bot.js';
import { MemorySessionStore } from '../session/memory-session-store.js';
import type { Session, SessionStore } from '../session/session.js';
import { EventBuffer, warnOnOverflow } from '../shard/event-buffer.js';
import { Shard, type ShardInfo } from '../shard/shard.js';
import { ShardState } from '../shard/shard-state.js';
import { MemberRequest, type MemberRequestOptions } from './member-request.js';
import { shardIdForGuild } from './shard-routing.js';
import { checkResumeUrl } from '../config/rules.js';

/** Collaborators of a {@link Cluster}; each has a default. */
export interface ClusterDeps {
  /** Shared by every shard, the identify queue and timeouts. Default {@link systemClock}. */
  readonly clock?: Clock;
  /** Default `consoleLogger('warn')`. */
  readonly logger?: GatewayLogger;
  /**
   * Paces IDENTIFY for every shard. Default: an {@link InMemoryIdentifyQueue} built in `up()`
   * from `maxConcurrency`, `identifyWindowMs`, `onBudgetExhausted` and the budget of
   * GET /gateway/bot. An injected queue owns pacing and the budget: the cluster then asks
   * GET /gateway/bot only for the `'recommended'` scheme.
   */
  readonly queue?: IdentifyQueue;
  /** Where sessions survive a restart. Default {@link MemorySessionStore}. */
  readonly sessionStore?: SessionStore;
  /** Randomness for the shards' jitter. Default `Math.random`. */
  readonly random?: () => number;
}

/** A gateway payload to send: opcode and data (PROTOCOL.md section 15). */
export interface CommandPayload {
  readonly op: number;
  readonly d: unknown;
}

/** Startup progress, reported by {@link Cluster.onProgress}. */
export interface ClusterProgress {
  /** Shards that are Active. */
  readonly ready: number;
  /** Shards this cluster runs. */
  readonly total: number;
  /** Ms until the identify queue has granted every waiting shard, or `null` when unknown. */
  readonly etaMs: number | null;
  /** Clock reading (ms) of the budget reset the queue waits for, or `null`. */
  readonly waitingForBudgetResetAt: number | null;
}

interface Subscription {
  /** Types delivered; `null` = the base flags (which may change). */
  readonly flags: EventTypeFlags | null;
  /** `flags` as a set of names ({@link typesOf}), or `null` with them. */
  readonly types: ReadonlySet<string> | null;
  readonly listener: GatewayEventListener;
}

type Phase = 'idle' | 'starting' | 'up' | 'stopped';

/** Chunk answers of op 8 are decoded while a member request waits, whatever the flags (DESIGN.md: Events). */
const MEMBER_REQUEST_FLAGS = EventTypeFlags.of(EventType.GuildMembersChunk, EventType.RateLimited);
/** The close code of `downResumable()`: not 1000/1001, so the session stays resumable (GW-CL-1, GW-GT-2). */
const RESUMABLE_CLOSE_CODE = 4000;
const DEFAULT_MEMBER_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Many shards, one event stream (DESIGN.md: Cluster; twilight-gateway's cluster).
 *
 * - Shards: `'recommended'` (count and max_concurrency from GET /gateway/bot), a range
 *   `{ from, to, shardCount }` (inclusive), or `{ buckets, shardCount, maxConcurrency }`
 *   (GW-SH-4). The shards are created by {@link up}: before it, {@link shardIds} is empty.
 * - One {@link IdentifyQueue} and one {@link SessionStore} for every shard. RESUME bypasses
 *   the queue (GW-GT-13).
 * - Events of every shard, tagged with `shardId`, through {@link addListener},
 *   {@link subscribe} and {@link events}; listeners are called in arrival order per shard.
 * - Commands to a shard by id, by guild (GW-SH-1) or to every shard.
 *
 * Sessions: `downResumable()` stores every session; the next `up()` with the same store
 * resumes them. A stored session is a one-time handoff: it is deleted from the store once its
 * shard resumed, re-identified, or got op 9 `d:false`, so a crash later never replays events
 * that were already delivered (no periodic saves, for the same reason). `down()` deletes them.
 *
 * @example
 * const cluster = new Cluster({ token, intents: ['Guilds'] }, { sessionStore: new FileSessionStore('.sessions.json') });
 * cluster.addListener((event) => console.log(event.shardId, event.type));
 * await cluster.up();
 */
export class Cluster {
  private readonly config: ClusterConfig;
  private readonly explicitGatewayUrl: boolean;
  private readonly clock: Clock;
  private readonly logger: GatewayLogger;
  private readonly random: (() => number) | undefined;
  private readonly store: SessionStore;
  private readonly injectedQueue: IdentifyQueue | undefined;
  private queue: IdentifyQueue | null = null;
  private insight: IdentifyQueueInsight | null = null;

  private readonly shardMap = new Map<number, Shard>();
  private ids: number[] = [];
  private count: number;
  private phase: Phase = 'idle';
  private starting: Promise<void> | null = null;
  private stopping: Promise<Map<number, Session>> | null = null;
  private readonly abort = new AbortController();

  private baseFlags: EventTypeFlags;
  /** {@link baseFlags} as names, kept beside them: routing an event is then one Set lookup. */
  private baseTypes: ReadonlySet<string>;
  private effectiveFlags: EventTypeFlags;
  private baseListeners: GatewayEventListener[] = [];
  private subscriptions: Subscription[] = [];
  private readonly buffers = new Set<EventBuffer<GatewayEvent>>();

  private readonly memberRequests = new Map<string, MemberRequest>();

  /** Shards whose stored session is not yet consumed (see the class doc). */
  private readonly storedPending = new Set<number>();
  private readonly guildsReady = new Map<number, ShardGuildsReadyData | null>();
  private clusterReadyEmitted = false;
  private guildsReadyEmitted = false;
  /** Settles at CLUSTER_READY, or with the start's failure. */
  private readonly ready = deferred();
  /** Settles once up() created every shard (they are connecting), or with the start's failure. */
  private readonly started = deferred();
  private progressListeners: ((progress: ClusterProgress) => void)[] = [];
  /** The last progress emitted: an unchanged one is not emitted again. */
  private lastProgress: ClusterProgress | null = null;

  /**
   * @param options see `ClusterOptions` (token and intents required).
   * @throws ConfigError listing every invalid option.
   */
  constructor(options: ClusterOptions, deps: ClusterDeps = {}) {
    this.config = normalizeClusterOptions(options);
    this.explicitGatewayUrl = options.gatewayUrl !== undefined;
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? consoleLogger('warn');
    this.random = deps.random;
    this.store = deps.sessionStore ?? new MemorySessionStore();
    this.injectedQueue = deps.queue;
    this.count = this.config.shards.kind === 'recommended' ? 0 : this.config.shards.shardCount;
    this.baseFlags = this.config.eventTypes;
    this.baseTypes = typesOf(this.baseFlags);
    this.effectiveFlags = this.baseFlags;
  }

  /** Ids of the shards this cluster runs, ascending; empty until {@link up} created them. */
  get shardIds(): number[] {
    return [...this.ids];
  }

  /** Total shards of the bot (`num_shards`); 0 until known (`'recommended'`: after GET /gateway/bot). */
  get shardCount(): number {
    return this.count;
  }

  /**
   * The base event flags: what {@link addListener} listeners receive and what every shard
   * decodes, widened by active {@link subscribe} subscriptions. Setting it applies to every shard.
   */
  get eventTypes(): EventTypeFlags {
    return this.baseFlags;
  }

  set eventTypes(flags: EventTypeFlags) {
    this.baseFlags = flags;
    this.baseTypes = typesOf(flags);
    this.applyFlags();
  }

  /** @throws UnknownShardError when this cluster does not run shard `id`. */
  shard(id: number): Shard {
    const shard = this.shardMap.get(id);
    if (shard === undefined) throw new UnknownShardError(id, this.ids);
    return shard;
  }

  /**
   * The shard id that receives the guild's events, `(guild_id >> 22) % shardCount`
   * (GW-SH-1, GW-GT-17). It may be a shard another process runs.
   * @throws UnknownShardError while the shard count is unknown (`'recommended'` before {@link up});
   *   TypeError for a guild id that is not a snowflake string.
   */
  shardIdForGuild(guildId: string): number {
    if (this.count === 0) throw new UnknownShardError(-1, this.ids);
    return shardIdForGuild(guildId, this.count);
  }

  /** Per-shard state, latency, session, reconnects, last close and Active time, by shard id. */
  info(): ShardInfo[] {
    return this.ids.map((id) => this.shard(id).info());
  }

  // ---- events ---------------------------------------------------------------------------

  /**
   * Calls `listener` with every event of every shard whose type is in the base flags
   * ({@link eventTypes}), plus CLUSTER_READY and CLUSTER_GUILDS_READY. A throwing or
   * rejecting listener is logged, never breaks delivery. Returns the unsubscribe function.
   */
  addListener(listener: GatewayEventListener): () => void {
    this.baseListeners = [...this.baseListeners, listener];
    return () => {
      this.baseListeners = this.baseListeners.filter((l) => l !== listener);
    };
  }

  /**
   * Calls `listener` with events of the given types only, and makes every shard decode them
   * while subscribed (effective flags = base | every subscription). Returns the unsubscribe
   * function, which restores the filter.
   */
  subscribe(types: readonly EventType[] | 'all', listener: GatewayEventListener): () => void {
    const flags = types === 'all' ? EventTypeFlags.ALL : EventTypeFlags.of(...types);
    return this.addSubscription({ flags, types: typesOf(flags), listener });
  }

  /**
   * The merged events as an AsyncIterable over a bounded buffer (`bufferSize`, default the
   * `bufferSize` option, 1000): when the consumer falls behind, new events are dropped,
   * counted and logged once per burst. With `types`, only those (decoded while iterating, as
   * with {@link subscribe}); without, the base flags. Ends after {@link down} /
   * {@link downResumable}; `break` unsubscribes.
   */
  events(
    options: { types?: readonly EventType[]; bufferSize?: number } = {},
  ): AsyncIterableIterator<GatewayEvent> {
    const capacity = options.bufferSize ?? this.config.bufferSize;
    let unsubscribe: () => void = () => {};
    const buffer: EventBuffer<GatewayEvent> = new EventBuffer<GatewayEvent>(
      capacity,
      warnOnOverflow(this.logger, 'Cluster', capacity),
      () => {
        unsubscribe();
        this.buffers.delete(buffer);
      },
    );
    if (this.phase === 'stopped') {
      buffer.end();
      return buffer;
    }
    this.buffers.add(buffer);
    const flags = options.types === undefined ? null : EventTypeFlags.of(...options.types);
    unsubscribe = this.addSubscription({
      flags,
      types: flags === null ? null : typesOf(flags),
      listener: (event) => buffer.push(event),
    });
    return buffer;
  }

  /** Calls `listener` with startup progress: after each shard becomes Active, each identify grant, and on a budget wait. */
  onProgress(listener: (progress: ClusterProgress) => void): () => void {
    this.progressListeners = [...this.progressListeners, listener];
    return () => {
      this.progressListeners = this.progressListeners.filter((l) => l !== listener);
    };
  }

  // ---- commands -------------------------------------------------------------------------

  /**
   * Sends a payload through shard `shardId` (queued until it is Active, rate limited, in order).
   * @throws (rejects) UnknownShardError; the shard's PayloadTooLargeError / ShardClosedError.
   */
  async command(shardId: number, payload: CommandPayload): Promise<void> {
    await this.shardsCreated();
    return this.shard(shardId).send(payload);
  }

  /**
   * Sends a payload through the shard that owns `guildId` (GW-SH-1).
   * @throws (rejects) UnknownShardError when that shard runs in another process.
   */
  async commandForGuild(guildId: string, payload: CommandPayload): Promise<void> {
    await this.shardsCreated();
    return this.shard(this.shardIdForGuild(guildId)).send(payload);
  }

  /** Sends a payload through every shard; rejects with the first failure (the others are still sent). */
  async broadcast(payload: CommandPayload): Promise<void> {
    await this.shardsCreated();
    await Promise.all(this.ids.map((id) => this.shard(id).send(payload)));
  }

  /**
   * Op 3 Update Presence on one shard, or on every shard when `shardId` is omitted (GW-RL-4:
   * at most 5 per 20 s per shard). @throws (rejects) CommandError, UnknownShardError.
   */
  async updatePresence(data: GatewayPresenceUpdateData, shardId?: number): Promise<void> {
    await this.shardsCreated();
    const ids = shardId === undefined ? this.ids : [shardId];
    await Promise.all(ids.map((id) => this.shard(id).updatePresence(data)));
  }

  /**
   * Op 8 Request Guild Members on the guild's shard, with a generated nonce (32 bytes,
   * GW-GT-19). The returned request gathers the GUILD_MEMBERS_CHUNK answer; see
   * {@link MemberRequest}. While any request waits, every shard decodes GUILD_MEMBERS_CHUNK and
   * RATE_LIMITED.
   *
   * @param guildId a snowflake string
   * @throws UnknownShardError when this cluster does not run the guild's shard
   */
  requestGuildMembers(guildId: string, options: MemberRequestOptions = {}): MemberRequest {
    const shardId = this.shardIdForGuild(guildId);
    const shard = this.shard(shardId);
    const nonce = randomBytes(16).toString('hex');
    const request = new MemberRequest(
      guildId,
      shardId,
      nonce,
      options.timeoutMs ?? DEFAULT_MEMBER_REQUEST_TIMEOUT_MS,
      this.clock,
      (settled) => {
        this.memberRequests.delete(settled.nonce);
        if (this.memberRequests.size === 0) this.applyFlags();
      },
    );
    this.memberRequests.set(nonce, request);
    if (this.memberRequests.size === 1) this.applyFlags();
    const data = {
      guild_id: guildId,
      nonce,
      ...(options.presences === undefined ? {} : { presences: options.presences }),
      ...(options.userIds === undefined
        ? { query: options.query ?? '', limit: options.limit ?? 0 }
        : {
            user_ids: [...options.userIds],
            ...(options.query === undefined ? {} : { query: options.query }),
            ...(options.limit === undefined ? {} : { limit: options.limit }),
          }),
    } as GatewayRequestGuildMembersData;
    shard.requestGuildMembers(data).catch((error: unknown) => request.fail(error));
    return request;
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /**
   * Starts every shard and resolves when all are Active (then CLUSTER_READY is emitted).
   *
   * 1. GET /gateway/bot when needed (the `'recommended'` scheme, or no injected queue: the
   *    default queue needs max_concurrency and the daily budget, PROTOCOL.md section 12).
   * 2. Loads stored sessions for this shard count (another count's are never resumed).
   * 3. Checks the budget before any IDENTIFY: the shards without a stored session must fit in
   *    `remaining`, else IdentifyBudgetError (policy `'fail'`) or a logged wait for the reset
   *    (`'wait'`, also in {@link onProgress}).
   * 4. Connects every shard: stored sessions RESUME at once, the others IDENTIFY through the queue.
   *
   * Calling it again returns the same promise.
   *
   * @throws (rejects) IdentifyBudgetError; FatalCloseError naming the shard and close code
   *   (the other shards are then closed resumably and their sessions stored); HttpError from
   *   GET /gateway/bot; AbortedError when {@link down} came first or the cluster was shut down.
   */
  up(): Promise<void> {
    if (this.phase === 'stopped')
      return Promise.reject(new AbortedError('up() of a cluster that was shut down'));
    this.starting ??= this.start().catch(async (error: unknown) => {
      if (this.phase === 'stopped') {
        // down() came first: its closes are what made the start fail.
        throw new AbortedError('cluster start');
      }
      this.ready.reject(error);
      this.started.reject(error);
      this.logger.error(`Cluster failed to start: ${describeError(error)}`);
      await this.shutdown(RESUMABLE_CLOSE_CODE);
      throw error;
    });
    return this.starting;
  }

  /**
   * Resolves at CLUSTER_READY (every shard Active at once); rejects when {@link up} fails. It
   * settles once: a shard that closes later (even fatally) does not undo it; watch the
   * SHARD_* events or {@link info} for that.
   */
  waitUntilReady(): Promise<void> {
    return this.ready.promise;
  }

  /**
   * Resolves once {@link up} has done what can fail for certain before any shard connects
   * (GET /gateway/bot, loading stored sessions, the identify budget check) and created every
   * shard; the shards are then connecting. Rejects with the error that made {@link up} fail.
   * Cheap to await where a start must fail fast (a rejected token, no budget) without waiting
   * for every shard to be Active.
   */
  waitUntilStarted(): Promise<void> {
    return this.started.promise;
  }

  /**
   * Ends every session (close 1000: the bot goes offline at once, GW-CL-1), deletes the stored
   * sessions, fails pending member requests with AbortedError and ends every events() iterator.
   * Never throws; a second call returns the first one's promise.
   */
  async down(): Promise<void> {
    await this.shutdown(1000);
  }

  /**
   * Closes every shard with a non-1000 code so its session stays resumable (GW-CL-1, GW-GT-2),
   * saves the sessions to the store and returns them by shard id. A new cluster with the same
   * store resumes them on `up()` (within the few minutes Discord keeps them).
   */
  downResumable(): Promise<Map<number, Session>> {
    return this.shutdown(RESUMABLE_CLOSE_CODE);
  }

  /** Safe for logs: never shows the token. */
  toJSON(): { shardIds: number[]; shardCount: number; phase: Phase } {
    return { shardIds: this.ids, shardCount: this.count, phase: this.phase };
  }

  [inspect.custom](): string {
    return `Cluster { shards: ${this.ids.length}/${this.count}, phase: '${this.phase}' }`;
  }

  private async start(): Promise<void> {
    this.phase = 'starting';
    const scheme = this.config.shards;
    const needsGatewayBot = scheme.kind === 'recommended' || this.injectedQueue === undefined;
    let gatewayBot: GatewayBotInfo | null = null;
    if (needsGatewayBot) {
      gatewayBot = await fetchGatewayBot({
        apiUrl: this.config.apiUrl,
        token: this.config.token,
        signal: this.abort.signal,
        clock: this.clock,
        logger: this.logger,
      });
      this.checkNotStopped();
      const limit = gatewayBot.sessionStartLimit;
      this.logger.log(
        `GET /gateway/bot: ${gatewayBot.shards} shards recommended, max_concurrency ${limit.maxConcurrency}, ` +
          `${limit.remaining}/${limit.total} session starts left`,
      );
    }
    this.count =
      scheme.kind === 'recommended' ? (gatewayBot as GatewayBotInfo).shards : scheme.shardCount;
    const ids = shardIdsOf(scheme, this.count);
    const queue = this.injectedQueue ?? this.createQueue(gatewayBot);
    this.queue = queue;
    this.insight = isInsight(queue) ? queue : null;

    const gatewayUrl =
      !this.explicitGatewayUrl && gatewayBot !== null
        ? gatewayBot.url.replace(/\/+$/, '')
        : this.config.gatewayUrl;
    const stored = await Promise.all(ids.map((id) => this.loadSession(id, gatewayUrl)));
    this.checkNotStopped();
    const needed = stored.filter((session) => session === null).length;
    this.checkBudget(needed, gatewayBot);

    const pacedQueue: IdentifyQueue = {
      enqueue: (shardId, signal) => {
        const granted = queue.enqueue(shardId, signal);
        this.emitProgress();
        return granted.then(() => this.emitProgress());
      },
    };
    ids.forEach((id, index) => {
      const session = stored[index];
      const options = shardOptionsFor(this.config, id, this.count, session);
      const shard = new Shard(
        {
          ...options,
          gatewayUrl,
          eventTypes: this.effectiveFlags,
          recordTo:
            options.recordTo === undefined
              ? undefined
              : recordPathFor(options.recordTo, id, ids.length),
        },
        { clock: this.clock, queue: pacedQueue, logger: this.logger, random: this.random },
      );
      if (session !== null) this.storedPending.add(id);
      this.shardMap.set(id, shard);
      shard.addListener((event) => this.onShardEvent(event));
    });
    this.ids = ids;
    this.started.resolve();
    this.logger.log(
      `Cluster starting ${ids.length} of ${this.count} shards: ${this.storedPending.size} resume, ${needed} identify`,
    );
    this.emitProgress();
    await Promise.all(
      ids.map((id) =>
        this.shard(id)
          .connect()
          .catch((error: unknown) => {
            // A shard closed by down() mid-start is no failure worth an error line.
            if (this.phase !== 'stopped') {
              this.logger.error(`Shard ${id} failed to start: ${describeError(error)}`);
            }
            throw error;
          }),
      ),
    );
    this.checkNotStopped();
    this.phase = 'up';
  }

  private createQueue(gatewayBot: GatewayBotInfo | null): InMemoryIdentifyQueue {
    const limit = gatewayBot?.sessionStartLimit;
    return new InMemoryIdentifyQueue({
      maxConcurrency: this.config.maxConcurrency ?? limit?.maxConcurrency ?? 1,
      windowMs: this.config.identifyWindowMs,
      clock: this.clock,
      logger: this.logger,
      onBudgetExhausted: this.config.onBudgetExhausted,
      budget:
        limit === undefined
          ? undefined
          : { total: limit.total, remaining: limit.remaining, resetAfterMs: limit.resetAfter },
      onBudgetWait: () => this.emitProgress(),
    });
  }

  /** Refuses before any IDENTIFY when the shards that must identify exceed the budget (GW-ID-5). */
  private checkBudget(needed: number, gatewayBot: GatewayBotInfo | null): void {
    if (this.insight !== null) {
      const resetAt = this.insight.checkBudget(needed);
      if (resetAt !== null) {
        this.logger.warn(
          `Identify budget too small for ${needed} shard(s); some wait for the reset at ${new Date(resetAt).toISOString()}`,
        );
      }
      return;
    }
    const limit = gatewayBot?.sessionStartLimit;
    if (
      limit !== undefined &&
      needed > limit.remaining &&
      this.config.onBudgetExhausted === 'fail'
    ) {
      throw new IdentifyBudgetError(needed, limit.remaining, this.clock.now() + limit.resetAfter);
    }
  }

  /**
   * The stored session of shard `id`, or null: none, unreadable, or unusable. An unusable one
   * (a resume URL this configuration may not send the token to, e.g. `ws:` kept from a local
   * test gateway while the gateway URL is `wss:`) is deleted, so one bad entry never stops the
   * start; that shard identifies.
   */
  private async loadSession(id: number, gatewayUrl: string): Promise<Session | null> {
    let session: Session | null;
    try {
      session = await this.store.load(id, this.count);
    } catch (error) {
      this.logger.warn(
        `Cannot load the stored session of shard ${id}: ${describeError(error)}; it will identify`,
      );
      return null;
    }
    if (session === null) return null;
    const checked = checkResumeUrl(session.resumeUrl, gatewayUrl, this.config.allowInsecureGateway);
    if ('url' in checked) return session;
    this.logger.warn(
      `The stored session of shard ${id} is unusable (resumeUrl ${checked.rule}); it is deleted and the shard identifies`,
    );
    await this.store.delete(id, this.count).catch((error: unknown) => {
      this.logger.error(`Cannot delete the stored session of shard ${id}`, error);
    });
    return null;
  }

  /**
   * Commands issued while {@link up} is still fetching GET /gateway/bot wait for the shards to
   * exist, then queue on their shard like any command sent before READY.
   */
  private async shardsCreated(): Promise<void> {
    if (this.phase === 'starting' && this.shardMap.size === 0) await this.started.promise;
  }

  private checkNotStopped(): void {
    if (this.phase === 'stopped') throw new AbortedError('cluster start');
  }

  private shutdown(code: number): Promise<Map<number, Session>> {
    this.stopping ??= this.stop(code);
    return this.stopping;
  }

  private async stop(code: number): Promise<Map<number, Session>> {
    const wasPhase = this.phase;
    this.phase = 'stopped';
    this.abort.abort();
    const resumable = code !== 1000;
    for (const request of [...this.memberRequests.values()]) {
      request.fail(new ShardClosedError(request.shardId, 'member request'));
    }
    const sessions = new Map<number, Session>();
    await Promise.all(
      this.ids.map(async (id) => {
        const session = await this.shard(id).close(code);
        if (resumable && session !== null) sessions.set(id, session);
      }),
    );
    (this.queue as { close?: () => void } | null)?.close?.();
    await Promise.all(
      this.ids.map(async (id) => {
        try {
          const session = sessions.get(id);
          if (session !== undefined) await this.store.save(id, this.count, session);
          else if (!resumable || !this.storedPending.has(id))
            await this.store.delete(id, this.count);
        } catch (error) {
          this.logger.error(
            `Cannot ${resumable ? 'save' : 'delete'} the stored session of shard ${id}`,
            error,
          );
        }
      }),
    );
    for (const buffer of [...this.buffers]) buffer.end();
    this.ready.reject(new AbortedError('cluster start'));
    this.started.reject(new AbortedError('cluster start'));
    if (this.ids.length > 0) {
      this.logger.log(
        resumable
          ? `Cluster down (resumable): ${sessions.size} session(s) stored`
          : 'Cluster down: sessions ended',
      );
    } else if (wasPhase !== 'idle') {
      this.logger.log('Cluster stopped before any shard was created');
    }
    return sessions;
  }

  // ---- event routing --------------------------------------------------------------------

  private onShardEvent(event: GatewayEvent): void {
    switch (event.type) {
      case EventType.GuildMembersChunk:
        this.onMembersChunk(event.data as GatewayGuildMembersChunkDispatchData);
        break;
      case EventType.RateLimited:
        this.onRateLimited(event.shardId, event.data as GatewayRateLimitedDispatchData);
        break;
      case EventType.ShardReady:
      case EventType.ShardResumed:
        this.onShardActive(event.shardId, event.type === EventType.ShardResumed);
        break;
      case EventType.ShardInvalidSession:
        if (!(event.data as ShardInvalidSessionData).resumable)
          this.consumeStoredSession(event.shardId);
        break;
      case EventType.ShardGuildsReady:
        this.guildsReady.set(event.shardId, event.data as ShardGuildsReadyData);
        break;
    }
    this.deliver(event);
    if (event.type === EventType.ShardReady || event.type === EventType.ShardResumed)
      this.afterShardActive();
    else if (event.type === EventType.ShardGuildsReady) this.maybeEmitGuildsReady();
  }

  private onShardActive(shardId: number, resumed: boolean): void {
    // A resumed shard's guilds arrived in the run that stored the session: nothing to wait for.
    if (resumed && !this.guildsReady.has(shardId)) this.guildsReady.set(shardId, null);
    this.consumeStoredSession(shardId);
  }

  private afterShardActive(): void {
    this.emitProgress();
    if (this.clusterReadyEmitted || this.phase === 'stopped') return;
    for (const id of this.ids) if (this.shard(id).state !== ShardState.Active) return;
    this.clusterReadyEmitted = true;
    this.logger.log(`Cluster ready: ${this.ids.length} shard(s) Active`);
    this.emitClusterEvent(EventType.ClusterReady, { shardIds: [...this.ids] });
    this.ready.resolve();
    this.maybeEmitGuildsReady();
  }

  private maybeEmitGuildsReady(): void {
    if (!this.clusterReadyEmitted || this.guildsReadyEmitted) return;
    if (this.ids.some((id) => !this.guildsReady.has(id))) return;
    this.guildsReadyEmitted = true;
    let guildCount = 0;
    const unavailable: string[] = [];
    for (const data of this.guildsReady.values()) {
      if (data === null) continue;
      guildCount += data.guildCount;
      unavailable.push(...data.unavailable);
    }
    this.emitClusterEvent(EventType.ClusterGuildsReady, { guildCount, unavailable });
  }

  /** Deletes a stored session once its shard no longer needs it (see the class doc). */
  private consumeStoredSession(shardId: number): void {
    if (!this.storedPending.delete(shardId) || this.phase === 'stopped') return;
    this.store.delete(shardId, this.count).catch((error: unknown) => {
      this.logger.error(`Cannot delete the stored session of shard ${shardId}`, error);
    });
  }

  private onMembersChunk(chunk: GatewayGuildMembersChunkDispatchData): void {
    if (chunk.nonce === undefined) return;
    this.memberRequests.get(chunk.nonce)?.handleChunk(chunk);
  }

  private onRateLimited(shardId: number, data: GatewayRateLimitedDispatchData): void {
    if (data.opcode !== 8) return;
    const meta = data.meta as { guild_id?: string; nonce?: string };
    let request = meta.nonce === undefined ? undefined : this.memberRequests.get(meta.nonce);
    if (request === undefined && meta.nonce === undefined) {
      // Without a nonce the answer can only be matched by guild: the oldest request for it.
      for (const candidate of this.memberRequests.values()) {
        if (candidate.shardId === shardId && candidate.guildId === meta.guild_id) {
          request = candidate;
          break;
        }
      }
    }
    request?.fail(new MemberRequestRateLimitedError(request.guildId, data.retry_after, meta.nonce));
  }

  private emitClusterEvent(type: EventType, data: unknown): void {
    this.deliver({ shardId: this.ids[0] ?? 0, type, data, sequence: null } as GatewayEvent);
  }

  private deliver(event: GatewayEvent): void {
    const type = event.type;
    const base = this.baseTypes;
    if (includes(base, type)) {
      const listeners = this.baseListeners;
      for (let i = 0; i < listeners.length; i++)
        this.call(listeners[i] as GatewayEventListener, event);
    }
    const subscriptions = this.subscriptions;
    for (let i = 0; i < subscriptions.length; i++) {
      const subscription = subscriptions[i] as Subscription;
      if (includes(subscription.types ?? base, type)) this.call(subscription.listener, event);
    }
  }

  private call(listener: GatewayEventListener, event: GatewayEvent): void {
    try {
      const result = (listener as (e: GatewayEvent) => unknown)(event);
      if (result instanceof Promise)
        result.catch((error: unknown) => this.onListenerError(event, error));
    } catch (error) {
      this.onListenerError(event, error);
    }
  }

  private onListenerError(event: GatewayEvent, error: unknown): void {
    this.logger.error(`A cluster listener of ${event.type} (shard ${event.shardId}) threw`, error);
  }

  private addSubscription(subscription: Subscription): () => void {
    this.subscriptions = [...this.subscriptions, subscription];
    if (subscription.flags !== null) this.applyFlags();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.subscriptions = this.subscriptions.filter((s) => s !== subscription);
      if (subscription.flags !== null) this.applyFlags();
    };
  }

  /** Effective decode filter of every shard: base | subscriptions | member-request answers. */
  private applyFlags(): void {
    let flags = this.baseFlags;
    for (const subscription of this.subscriptions) flags |= subscription.flags ?? 0n;
    if (this.memberRequests.size > 0) flags |= MEMBER_REQUEST_FLAGS;
    if (flags === this.effectiveFlags) return;
    this.effectiveFlags = flags;
    for (const shard of this.shardMap.values()) shard.eventTypes = flags;
  }

  private emitProgress(): void {
    if (this.progressListeners.length === 0) return;
    let ready = 0;
    for (const shard of this.shardMap.values()) if (shard.state === ShardState.Active) ready++;
    const eta = this.insight?.eta() ?? null;
    const progress: ClusterProgress = {
      ready,
      total: this.ids.length,
      etaMs: eta === null ? null : Math.ceil(eta),
      waitingForBudgetResetAt: this.insight?.waitingForBudgetResetAt ?? null,
    };
    const last = this.lastProgress;
    if (
      last !== null &&
      last.ready === progress.ready &&
      last.total === progress.total &&
      last.etaMs === progress.etaMs &&
      last.waitingForBudgetResetAt === progress.waitingForBudgetResetAt
    ) {
      return;
    }
    this.lastProgress = progress;
    for (const listener of this.progressListeners) {
      try {
        listener(progress);
      } catch (error) {
        this.logger.error('A cluster progress listener threw', error);
      }
    }
  }
}

function isInsight(queue: IdentifyQueue): queue is IdentifyQueue & IdentifyQueueInsight {
  const candidate = queue as Partial<IdentifyQueueInsight>;
  return typeof candidate.checkBudget === 'function' && typeof candidate.eta === 'function';
}

/** One recording file per shard when several shards record: `<name>.shard-<id><ext>`. */
function recordPathFor(path: string, shardId: number, shards: number): string {
  if (shards === 1) return path;
  const { dir, name, ext } = parsePath(path);
  return joinPath(dir, `${name}.shard-${shardId}${ext}`);
}

/** A promise with its settle functions; its rejection is marked handled (callers await it). */
function deferred(): {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
} {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** At most this many distinct flag values keep a cached type set (they are rarely many). */
const MAX_CACHED_TYPE_SETS = 64;
const typeSets = new Map<EventTypeFlags, ReadonlySet<string>>();
const KNOWN_TYPES: ReadonlySet<string> = new Set(ALL_EVENT_TYPES);

/**
 * The event types set in `flags`, cached per value: the per-event check is then one Set
 * lookup instead of a Map lookup and a bigint AND (which allocates a new bigint each time).
 */
function typesOf(flags: EventTypeFlags): ReadonlySet<string> {
  let types = typeSets.get(flags);
  if (types !== undefined) return types;
  types = new Set(EventTypeFlags.toTypes(flags));
  if (typeSets.size >= MAX_CACHED_TYPE_SETS) typeSets.clear();
  typeSets.set(flags, types);
  return types;
}

/** {@link EventTypeFlags.has} on a {@link typesOf} set: unknown names count as UNKNOWN_EVENT. */
function includes(types: ReadonlySet<string>, type: string): boolean {
  return types.has(type) || (!KNOWN_TYPES.has(type) && types.has(EventType.UnknownEvent));
}
