import { inspect } from 'node:util';
import type { GatewayPresenceUpdateData } from 'discord-api-types/v10';
import { systemClock, type Clock } from '../clock/clock.js';
import {
  normalizeClusterOptions,
  type ClusterConfig,
  type ClusterOptions,
} from '../config/index.js';
import { describeError, AbortedError } from '../errors/errors.js';
import { EventType } from '../events/event-type.js';
import { EventTypeFlags } from '../events/event-type-flags.js';
import type { GatewayEvent, GatewayEventListener } from '../events/gateway-event.js';
import type { ProcessHealthReport } from '../health/across-processes.js';
import type { ClusterHealthOptions, GatewayHealthVerdict } from '../health/health-verdict.js';
import { consoleLogger, type GatewayLogger } from '../logger.js';
import type { IdentifyQueue } from '../queue/identify-queue.js';
import type { IdentifyQueueInsight } from '../queue/in-memory-queue.js';
import { MemorySessionStore } from '../session/memory-session-store.js';
import type { Session } from '../session/session.js';
import type { Shard, ShardInfo } from '../shard/shard.js';
import type { ClusterDeps } from './cluster-deps.js';
import type { EventSink } from './event-sink.js';
import type { ShardObserver } from '../shard/shard-observer.js';
import { ClusterHealthWatch } from './cluster-health.js';
import { CLUSTER_HANDLED, OwnEvents } from './cluster-events.js';
import { ClusterShards, type CommandPayload } from './cluster-shards.js';
import { deferred } from './deferred.js';
import { EventRouter } from './event-router.js';
import {
  MemberRequestRegistry,
  type MemberRequest,
  type MemberRequestOptions,
} from './member-request.js';
import { ProgressReporter, type ClusterProgress } from './progress.js';
import { ClusterReadiness } from './readiness.js';
import { planStart, reportingGrants, sessionsById } from './startup.js';
import { StoredSessions } from './stored-sessions.js';

export type { CommandPayload } from './cluster-shards.js';
export type { ClusterProgress } from './progress.js';
export type { ClusterDeps } from './cluster-deps.js';

type Phase = 'idle' | 'starting' | 'up' | 'stopped';

/** The close code of `downResumable()`: not 1000/1001, so the session stays resumable (Discord docs: Gateway, Disconnections). */
const RESUMABLE_CLOSE_CODE = 4000;

/**
 * Many shards, one event stream, after twilight-gateway's cluster.
 *
 * - Shards: `'recommended'` (count and max_concurrency from GET /gateway/bot), a range
 *   `{ from, to, shardCount }` (inclusive), or `{ buckets, shardCount, maxConcurrency }`
 *   (Discord docs: Gateway, Max Concurrency). The shards are created by {@link up}: before it, {@link shardIds} is empty.
 * - One {@link IdentifyQueue} and one {@link SessionStore} for every shard. RESUME bypasses
 *   the queue.
 * - Events of every shard, tagged with `shardId`, through {@link addListener},
 *   {@link subscribe} and {@link events}; listeners are called in arrival order per shard.
 * - Commands to a shard by id, by guild (Discord docs: Gateway, Sharding) or to every shard.
 *
 * Sessions: `downResumable()` stores every session; the next `up()` with the same store
 * resumes them. By default a stored session is a one-time handoff: it is deleted from the
 * store once its shard resumed, re-identified, or got op 9 `d:false`, so a crash later never
 * replays events that were already delivered. A store that sets `saveIntervalMs` (one shared
 * by processes, such as Redis) gets every Active shard's session saved at that interval and
 * kept: a process that dies is resumed by the next one, and the events after the last save
 * are delivered again (at least once). `down()` deletes the stored sessions.
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
  private readonly injectedQueue: IdentifyQueue | undefined;
  private readonly sink: EventSink | null;
  private queue: IdentifyQueue | null = null;
  private insight: IdentifyQueueInsight | null = null;

  private readonly shards: ClusterShards;
  private phase: Phase = 'idle';
  private starting: Promise<void> | null = null;
  private stopping: Promise<Map<number, Session>> | null = null;
  private readonly abort = new AbortController();

  private readonly router: EventRouter;
  private readonly memberRequests: MemberRequestRegistry;
  private readonly stored: StoredSessions;
  private readonly progress: ProgressReporter;
  private readonly healthWatch: ClusterHealthWatch;

  private readonly readiness: ClusterReadiness;
  private readonly own: OwnEvents;
  /** Settles at CLUSTER_READY, or with the start's failure. */
  private readonly ready = deferred();
  /** Settles once up() created every shard (they are connecting), or with the start's failure. */
  private readonly started = deferred();

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
    this.injectedQueue = deps.queue;
    this.sink = deps.eventSink ?? null;
    this.shards = new ClusterShards(
      this.config.shards.kind === 'recommended' ? 0 : this.config.shards.shardCount,
    );
    this.router = new EventRouter(this.config.eventTypes, this.logger, (flags) =>
      this.shards.setEventTypes(flags),
    );
    const sinkFlags = this.sink?.eventTypes ?? EventTypeFlags.NONE;
    this.router.required = sinkFlags;
    this.memberRequests = new MemberRequestRegistry(this.clock, (flags) => {
      this.router.required = flags | sinkFlags;
    });
    const sink = this.sink;
    this.stored = new StoredSessions(
      deps.sessionStore ?? new MemorySessionStore(),
      this.logger,
      this.config.allowInsecureGateway,
      sink === null ? null : (id, session) => sink.sessionToSave(id, session),
    );
    this.progress = new ProgressReporter(this.logger);
    this.healthWatch = new ClusterHealthWatch(this.clock, () => ({
      shards: this.shards.values(),
      starting: this.phase === 'starting',
      insight: this.insight,
    }));
    this.readiness = new ClusterReadiness(this.router, () => this.ready.resolve(), this.logger);
    this.own = new OwnEvents(this.memberRequests, this.readiness, (shardId) =>
      // A stored session is deleted once its shard no longer needs it (see the class doc).
      this.stored.consume(shardId, this.shards.count, this.phase === 'stopped'),
    );
  }

  /** Ids of the shards this cluster runs, ascending; empty until {@link up} created them. */
  get shardIds(): number[] {
    return [...this.shards.ids];
  }

  /** Total shards of the bot (`num_shards`); 0 until known (`'recommended'`: after GET /gateway/bot). */
  get shardCount(): number {
    return this.shards.count;
  }

  /**
   * The base event flags: what {@link addListener} listeners receive and what every shard
   * decodes, widened by active {@link subscribe} subscriptions. Setting it applies to every shard.
   */
  get eventTypes(): EventTypeFlags {
    return this.router.flags;
  }

  set eventTypes(flags: EventTypeFlags) {
    this.router.flags = flags;
  }

  /** @throws UnknownShardError when this cluster does not run shard `id`. */
  shard(id: number): Shard {
    return this.shards.get(id);
  }

  /**
   * The shard id that receives the guild's events, `(guild_id >> 22) % shardCount`
   * (Discord docs: Gateway, Sharding; ids exceed 2^53). It may be a shard another process runs.
   * @throws UnknownShardError while the shard count is unknown (`'recommended'` before {@link up});
   *   TypeError for a guild id that is not a snowflake string.
   */
  shardIdForGuild(guildId: string): number {
    return this.shards.idForGuild(guildId);
  }

  /** Per-shard state, latency, session, reconnects, last close and Active time, by shard id. */
  info(): ShardInfo[] {
    return this.shards.ids.map((id) => this.shard(id).info());
  }

  /** The health verdict of this cluster's shards: `up`, `starting`, `degraded` or `down` (see `judgeHealth`). */
  health(options: ClusterHealthOptions = {}): GatewayHealthVerdict {
    return this.healthWatch.verdict(options);
  }

  /** This process's shards on the wall clock, for `judgeAcrossProcesses` in another process. */
  processHealthReport(process: string, options: ClusterHealthOptions = {}): ProcessHealthReport {
    return this.healthWatch.processReport(process, options);
  }

  /** Session starts left in the daily budget as the identify queue counts them; `null` when unknown. */
  get identifyBudgetRemaining(): number | null {
    return this.insight?.remaining ?? null;
  }

  /** Attaches metrics hooks (`ShardObserver`) to every shard, now and later; returns the detach function. */
  observe(observer: ShardObserver): () => void {
    return this.shards.addObserver(observer);
  }

  // ---- events ---------------------------------------------------------------------------

  /**
   * Calls `listener` with every event of every shard whose type is in the base flags
   * ({@link eventTypes}), plus CLUSTER_READY and CLUSTER_GUILDS_READY. A throwing or
   * rejecting listener is logged, never breaks delivery. Returns the unsubscribe function.
   */
  addListener(listener: GatewayEventListener): () => void {
    return this.router.addListener(listener);
  }

  /**
   * Calls `listener` with events of the given types only, and makes every shard decode them
   * while subscribed (effective flags = base | every subscription). Returns the unsubscribe
   * function, which restores the filter.
   */
  subscribe(types: readonly EventType[] | 'all', listener: GatewayEventListener): () => void {
    return this.router.subscribe(types, listener);
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
    return this.router.events(options, this.config.bufferSize, this.phase === 'stopped');
  }

  /** Calls `listener` with startup progress: after each shard becomes Active, each identify grant, and on a budget wait. */
  onProgress(listener: (progress: ClusterProgress) => void): () => void {
    return this.progress.addListener(listener);
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
   * Sends a payload through the shard that owns `guildId` (Discord docs: Gateway, Sharding).
   * @throws (rejects) UnknownShardError when that shard runs in another process.
   */
  async commandForGuild(guildId: string, payload: CommandPayload): Promise<void> {
    await this.shardsCreated();
    return this.shard(this.shardIdForGuild(guildId)).send(payload);
  }

  /** Sends a payload through every shard; rejects with the first failure (the others are still sent). */
  async broadcast(payload: CommandPayload): Promise<void> {
    await this.shardsCreated();
    await Promise.all(this.shards.ids.map((id) => this.shard(id).send(payload)));
  }

  /**
   * Op 3 Update Presence on one shard, or on every shard when `shardId` is omitted (Discord docs: Gateway, Rate Limiting:
   * at most 5 per 20 s per shard). @throws (rejects) CommandError, UnknownShardError.
   */
  async updatePresence(data: GatewayPresenceUpdateData, shardId?: number): Promise<void> {
    await this.shardsCreated();
    const ids = shardId === undefined ? this.shards.ids : [shardId];
    await Promise.all(ids.map((id) => this.shard(id).updatePresence(data)));
  }

  /**
   * Op 8 Request Guild Members on the guild's shard, with a generated nonce (32 bytes,
   * Discord docs: Request Guild Members). The returned request gathers the GUILD_MEMBERS_CHUNK answer; see
   * {@link MemberRequest}. While any request waits, every shard decodes GUILD_MEMBERS_CHUNK and
   * RATE_LIMITED.
   *
   * @param guildId a snowflake string
   * @throws UnknownShardError when this cluster does not run the guild's shard
   */
  requestGuildMembers(guildId: string, options: MemberRequestOptions = {}): MemberRequest {
    const shardId = this.shardIdForGuild(guildId);
    const shard = this.shard(shardId);
    return this.memberRequests.start(guildId, shardId, options, (data) =>
      shard.requestGuildMembers(data),
    );
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /**
   * Starts every shard and resolves when all are Active (then CLUSTER_READY is emitted).
   *
   * 1. GET /gateway/bot when needed (the `'recommended'` scheme, or no injected queue: the
   *    default queue needs max_concurrency and the daily budget, Discord docs: Session Start Limit Object).
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
   * Ends every session (close 1000: the bot goes offline at once, Discord docs: Gateway, Disconnections), deletes the stored
   * sessions, fails pending member requests with AbortedError and ends every events() iterator.
   * Never throws; a second call returns the first one's promise.
   */
  async down(): Promise<void> {
    await this.shutdown(1000);
  }

  /**
   * Closes every shard with a non-1000 code so its session stays resumable (Discord docs: Gateway, Disconnections),
   * saves the sessions to the store and returns them by shard id. A new cluster with the same
   * store resumes them on `up()` (within the few minutes Discord keeps them).
   */
  downResumable(): Promise<Map<number, Session>> {
    return this.shutdown(RESUMABLE_CLOSE_CODE);
  }

  /** Safe for logs: never shows the token. */
  toJSON(): { shardIds: number[]; shardCount: number; phase: Phase } {
    return { shardIds: this.shards.ids, shardCount: this.shards.count, phase: this.phase };
  }

  [inspect.custom](): string {
    return `Cluster { shards: ${this.shards.ids.length}/${this.shards.count}, phase: '${this.phase}' }`;
  }

  private async start(): Promise<void> {
    this.phase = 'starting';
    const plan = await planStart(this.config, {
      explicitGatewayUrl: this.explicitGatewayUrl,
      injectedQueue: this.injectedQueue,
      signal: this.abort.signal,
      clock: this.clock,
      logger: this.logger,
      loadSession: (id, shardCount, gatewayUrl) => this.stored.load(id, shardCount, gatewayUrl),
      onQueueChange: () => this.emitProgress(),
      checkNotStopped: () => this.checkNotStopped(),
    });
    const { ids, queue, gatewayUrl, needed, shardCount: count, sessions: stored } = plan;
    this.shards.count = count;
    this.queue = queue;
    this.insight = plan.insight;

    const eventTypes = this.router.effectiveFlags;
    const paced = reportingGrants(this.healthWatch.watching(queue), () => this.emitProgress());
    this.shards.create(
      this.config,
      { ids, shardCount: count, sessions: stored, gatewayUrl, eventTypes },
      { clock: this.clock, queue: paced, logger: this.logger, random: this.random },
      (event) => this.onShardEvent(event),
    );
    this.sink?.attach(this, sessionsById(ids, stored));
    this.stored.markPending(ids, stored);
    this.stored.startAutosave(count, () => this.shards.values(), this.clock);
    this.started.resolve();
    this.logger.log(
      `Cluster starting ${ids.length} of ${count} shards: ${this.stored.pendingCount} resume, ${needed} identify`,
    );
    this.emitProgress();
    await this.shards.connectAll(this.logger, () => this.phase === 'stopped');
    this.checkNotStopped();
    this.phase = 'up';
  }

  /**
   * Commands issued while {@link up} is still fetching GET /gateway/bot wait for the shards to
   * exist, then queue on their shard like any command sent before READY.
   */
  private async shardsCreated(): Promise<void> {
    if (this.phase === 'starting' && !this.shards.created) await this.started.promise;
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
    this.memberRequests.failAll();
    const sessions = await this.shards.closeAll(code, resumable);
    (this.queue as { close?: () => void } | null)?.close?.();
    await this.sink?.detach();
    await this.stored.persist(this.shards.ids, this.shards.count, sessions, resumable);
    this.router.endStreams();
    this.ready.reject(new AbortedError('cluster start'));
    this.started.reject(new AbortedError('cluster start'));
    if (this.shards.ids.length > 0) {
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
    if (this.sink !== null) this.sink.publish(event);
    // Nearly every event is a dispatch the cluster only routes: one Set lookup (on a hash the
    // shard's filter already computed) spares it the string comparisons of OwnEvents' switch.
    if (!CLUSTER_HANDLED.has(event.type)) {
      this.router.deliver(event);
      return;
    }
    this.own.handle(event);
    this.router.deliver(event);
    if (event.type === EventType.ShardReady || event.type === EventType.ShardResumed) {
      this.emitProgress();
      if (this.phase !== 'stopped')
        this.readiness.checkReady(this.shards.values(), this.shards.ids);
    } else if (event.type === EventType.ShardGuildsReady) {
      this.readiness.checkGuildsReady(this.shards.ids);
    }
  }

  private emitProgress(): void {
    if (this.phase === 'starting') this.healthWatch.noteStartProgress(this.insight);
    this.progress.report(this.shards.values(), this.shards.ids.length, this.insight);
  }
}
