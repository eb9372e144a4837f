import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { GatewayGuildMembersChunkDispatchData } from 'discord-api-types/v10';
import type { Redis } from 'ioredis';
import { systemClock } from '../gateway/clock/clock.js';
import type { CommandPayload } from '../gateway/cluster/cluster-shards.js';
import { MemberRequest, type MemberRequestOptions } from '../gateway/cluster/member-request.js';
import { shardIdForGuild } from '../gateway/cluster/shard-routing.js';
import { describeError, GatewayTimeoutError, type ConfigIssue } from '../gateway/errors/errors.js';
import type { EventType } from '../gateway/events/event-type.js';
import { EventTypeFlags } from '../gateway/events/event-type-flags.js';
import type { GatewayEvent } from '../gateway/events/gateway-event.js';
import { judgeAcrossProcesses } from '../gateway/health/across-processes.js';
import { judgeHealth, type GatewayHealthVerdict } from '../gateway/health/health-verdict.js';
import { silentLogger, type GatewayLogger } from '../gateway/logger.js';
import type { Session } from '../gateway/session/session.js';
import type { ShardInfo } from '../gateway/shard/shard-info.js';
import { ShardState } from '../gateway/shard/shard-state.js';
import {
  RemoteCommandError,
  ShardNotOwnedError,
  type CommandKind,
  type SerializedError,
} from './command-protocol.js';
import type { GatewayProcessReport } from './event-publisher.js';
import { RedisKeys, type BotIdentity } from './keys.js';
import { ShardLeases } from './shard-leases.js';
import { isNoGroup, ShardStreamReader, type StreamReply } from './stream-reader.js';

/** Options of {@link RedisEventConsumer}. Times in ms. */
export interface RedisEventConsumerOptions extends BotIdentity {
  /** A connected (or connecting) ioredis client; never closed by the consumer. It opens two more of its own (`duplicate()`) for blocking reads. */
  readonly redis: Redis;
  /** The consumer group: one group per service. Every group gets every dispatch. */
  readonly group: string;
  /** The bot's shard count (the streams of shards 0 to `shardCount - 1` are read). */
  readonly shardCount: number;
  /** This consumer's name in its group; keep it stable per instance (a pod name). Default `<host>-<pid>`. */
  readonly consumerName?: string;
  /** A shard stream is read by one consumer of the group at a time, under a lease of this length, renewed every third of it. Default 10_000. */
  readonly leaseMs?: number;
  /** Entries pending this long at another consumer (it crashed) are reclaimed (XAUTOCLAIM). Default `leaseMs`. */
  readonly claimIdleMs?: number;
  /** Entries read per shard at a time. Default 100. */
  readonly batchSize?: number;
  /**
   * How long a command waits for a gateway process to own its shard (then ShardNotOwnedError),
   * and then for that process to accept it (then GatewayTimeoutError; the process drops it
   * unsent), ms. Once accepted, a command waits behind the process's limits as long as they
   * need, while the process keeps reporting. Default 10_000.
   */
  readonly commandTimeoutMs?: number;
  readonly logger?: GatewayLogger;
}

/** A listener of the consumer: its promise is awaited before the entry is acknowledged. */
export type ConsumerListener = (event: GatewayEvent) => unknown;

interface Pending {
  readonly process: string;
  readonly onReply: (kind: string, body: unknown) => void;
}

/**
 * The consumer side of the Redis event streams: reads the dispatches gateway processes publish
 * (`RedisEventPublisher`) and runs this process's handlers on them. Use it through
 * `GatewayModule.forConsumer({ source: new RedisEventConsumer({ redis, group, shardCount }) })`:
 * the same `@OnGatewayEvent` handlers run, through the same guards, pipes, interceptors and
 * filters.
 *
 * - **Groups.** One group per service; each group gets every dispatch (created at the
 *   streams' start, `0`, so a new group reads what the streams still hold). A group lost with
 *   a Redis restart (NOGROUP) is created again.
 * - **Shards.** Within a group each shard stream is read by one consumer at a time, under a
 *   lease (`SET NX PX`, renewed every third of `leaseMs`): per-shard, hence per-guild, order
 *   is kept. The shards spread fairly over the group's live consumers (see `ShardLeases`):
 *   each holds `floor` or `ceil` of shards / consumers, none idle while another holds more.
 *   A consumer over its share hands a shard over at an entry boundary (the entry in hand
 *   finished and acknowledged); the next holder first runs the entries it left pending.
 *   Each change is logged: `Consumer <name> of group <group> reads shards <ids> of <count>`.
 * - **Acknowledgement.** An entry is acknowledged (XACK) after every handler of it finished,
 *   async ones included; a handler that throws is logged by the module and still counts as
 *   finished. Entries of one shard run one after another; shards run side by side, each in a
 *   task of its own, so a slow handler holds up its own shard only.
 * - **Crashes.** A consumer that dies stops renewing its leases; once they lapse another
 *   consumer takes its shards, claims the entries it left pending and runs them before newer
 *   ones (order holds). Entries pending elsewhere for `claimIdleMs` are reclaimed too
 *   (XAUTOCLAIM). Handlers therefore run at least once: `event.entryId` (`<generation>-<s>`)
 *   identifies a dispatch for dropping duplicates.
 * - **Names.** `consumerName` is this instance's name in its group; restarted under the same
 *   name, it first runs its own entries left pending.
 *
 * As `ClusterService` in consumer mode: {@link info} lists the shards gateway processes report
 * in Redis; {@link subscribe} (`events$()`) gives the events this consumer handles;
 * {@link waitUntilReady} resolves once the consumer joined its group and every shard is
 * reported Active; the commands travel to the process owning the shard (see {@link command}).
 */
export class RedisEventConsumer {
  readonly keys: RedisKeys;
  readonly group: string;
  readonly consumerName: string;
  readonly shardCount: number;
  readonly leaseMs: number;
  readonly claimIdleMs: number;
  readonly batchSize: number;
  readonly commandTimeoutMs: number;
  /**
   * Sequences of dispatches that may have been lost with Redis's data (a restart without
   * persistence), counted from the gap between the last entry handled before and the first
   * one after, per shard and generation. An upper bound: the gap also spans dispatches of
   * types the gateway processes do not publish.
   */
  get lostAfterRedisRestart(): number {
    return this.streams.lostAfterRedisRestart;
  }
  /** The types this consumer's handlers take (set by the module from the handlers). */
  eventTypes: EventTypeFlags = EventTypeFlags.ALL;

  private readonly redis: Redis;
  private readonly replyReader: Redis;
  private readonly logger: GatewayLogger;
  private readonly leases: ShardLeases;
  private readonly streams: ShardStreamReader;
  private listeners: ConsumerListener[] = [];
  private subscriptions: { types: ReadonlySet<string> | null; listener: ConsumerListener }[] = [];
  private running = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private replyLoop: Promise<void> | null = null;
  /** A lease round is under way (see tick). */
  private ticking = false;
  /** Reading the reply stream: from up() until the last batch's handlers finished in down(). */
  private replying = false;
  private reports: GatewayProcessReport[] = [];
  private verdict: GatewayHealthVerdict | null = null;
  private warnedTypes = false;
  /** The gateway process last seen reporting each shard (`null`: none since one did). */
  private readonly lastOwners = new Map<number, string | null>();
  private readonly pending = new Map<string, Pending>();
  private readonly ready: { promise: Promise<void>; resolve: () => void };
  private readFailing = false;
  /** The group is being created again after Redis lost it (reads and lease rounds may all meet NOGROUP at once). */
  private recreatingGroups = false;
  /** The shards last logged as read, for logging each change once. */
  private holding = '';

  /** @throws ConfigError listing every invalid option. */
  constructor(options: RedisEventConsumerOptions) {
    const issues: ConfigIssue[] = [];
    if (typeof (options.redis as Partial<Redis> | undefined)?.xreadgroup !== 'function') {
      issues.push({ path: 'redis', rule: 'must be an ioredis client' });
    }
    const name = /^[A-Za-z0-9._:-]{1,100}$/;
    if (typeof options.group !== 'string' || !name.test(options.group)) {
      issues.push({
        path: 'group',
        rule: 'must be 1 to 100 letters, digits, ".", "_", ":" or "-"',
      });
    }
    if (options.consumerName !== undefined && !name.test(options.consumerName)) {
      issues.push({
        path: 'consumerName',
        rule: 'must be 1 to 100 letters, digits, ".", "_", ":" or "-"',
      });
    }
    const checkInteger = (path: string, value: number | undefined, min: number): void => {
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= min)) {
        issues.push({ path, rule: `must be an integer >= ${min}` });
      }
    };
    if (options.shardCount === undefined) issues.push({ path: 'shardCount', rule: 'is required' });
    checkInteger('shardCount', options.shardCount, 1);
    checkInteger('leaseMs', options.leaseMs, 300);
    checkInteger('claimIdleMs', options.claimIdleMs, 0);
    checkInteger('batchSize', options.batchSize, 1);
    checkInteger('commandTimeoutMs', options.commandTimeoutMs, 1);
    this.keys = RedisKeys.orIssues(options, issues);
    this.redis = options.redis;
    this.group = options.group;
    this.shardCount = options.shardCount;
    this.consumerName = options.consumerName ?? `${hostname()}-${process.pid}`;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.claimIdleMs = options.claimIdleMs ?? this.leaseMs;
    this.batchSize = options.batchSize ?? 100;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 10_000;
    this.logger = options.logger ?? silentLogger;
    this.leases = new ShardLeases({
      redis: this.redis,
      keys: this.keys,
      shardCount: this.shardCount,
      group: this.group,
      consumerName: this.consumerName,
      leaseMs: this.leaseMs,
      batchSize: this.batchSize,
      logger: this.logger,
    });
    this.streams = new ShardStreamReader({
      redis: this.redis,
      leases: this.leases,
      group: this.group,
      consumerName: this.consumerName,
      leaseMs: this.leaseMs,
      claimIdleMs: this.claimIdleMs,
      batchSize: this.batchSize,
      logger: this.logger,
      deliver: (shardId, entryId, fields) => this.deliver(shardId, entryId, fields),
      recreateGroups: () => this.recreateGroups(),
      onReadError: (error) => {
        if (this.readFailing) return;
        this.readFailing = true;
        this.logger.warn(
          `Consumer ${this.consumerName} cannot read its streams (${describeError(error)}); it retries`,
        );
      },
    });
    this.replyReader = this.redis.duplicate({ maxRetriesPerRequest: null });
    this.replyReader.on('error', () => undefined);
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.ready = { promise, resolve };
  }

  /** The shards whose streams this consumer reads now, ascending. */
  get shardIds(): number[] {
    return [...this.leases.held.keys()].sort((a, b) => a - b);
  }

  /** Calls `listener` with every event this consumer takes; its promise is awaited before the XACK. */
  addListener(listener: ConsumerListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Calls `listener` with the events of `types` this consumer takes (they are not awaited). */
  subscribe(types: readonly EventType[] | 'all', listener: ConsumerListener): () => void {
    const entry = { types: types === 'all' ? null : new Set<string>(types), listener };
    this.subscriptions = [...this.subscriptions, entry];
    return () => {
      this.subscriptions = this.subscriptions.filter((s) => s !== entry);
    };
  }

  /** No start-up progress in consumer mode: the listener is never called. */
  onProgress(_listener: unknown): () => void {
    return () => undefined;
  }

  /** `(guild_id >> 22) % shardCount`. */
  shardIdForGuild(guildId: string): number {
    return shardIdForGuild(guildId, this.shardCount);
  }

  /** The shards gateway processes report (newest report of each shard), by shard id. */
  info(): ShardInfo[] {
    const newest = new Map<number, { at: number; info: ShardInfo }>();
    for (const report of this.reports) {
      for (const info of report.shards) {
        const held = newest.get(info.id);
        if (held === undefined || held.at < report.reportedAt) {
          newest.set(info.id, { at: report.reportedAt, info });
        }
      }
    }
    return [...newest.keys()].sort((a, b) => a - b).map((id) => newest.get(id)!.info);
  }

  /** The verdict of the gateway processes' reports (`judgeAcrossProcesses`), as of the last lease round. */
  health(): GatewayHealthVerdict {
    return (
      this.verdict ??
      judgeHealth([], {
        now: Date.now(),
        expectedShardIds: Array.from({ length: this.shardCount }, (_, id) => id),
        starting: true,
      })
    );
  }

  /** Resolves once the consumer joined its group and every shard is reported Active. */
  waitUntilReady(): Promise<void> {
    return this.ready.promise;
  }

  /**
   * Creates the group on every shard stream (when missing), joins it and starts reading.
   * @throws (rejects) ioredis's error when Redis cannot be reached.
   */
  async up(): Promise<void> {
    if (this.running) return;
    await this.createGroups();
    await this.redis.del(this.keys.replies(this.consumerName));
    this.running = true;
    await this.tick();
    this.tickTimer = setInterval(() => void this.tick(), Math.floor(this.leaseMs / 3));
    this.streams.start();
    this.replying = true;
    this.replyLoop = this.readReplies();
  }

  /** Stops reading, lets the handlers of the current batch finish (and their entries be acknowledged), then gives back the leases. */
  async down(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.tickTimer);
    // Replies keep coming until the batches in hand are done: their handlers may be waiting
    // for the outcome of a command they sent.
    await this.streams.stop();
    this.replying = false;
    this.replyReader.disconnect();
    await this.replyLoop;
    await this.leases.releaseAll();
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.onReply('error', {
        name: 'AbortedError',
        code: 'ABORTED',
        message: 'the consumer stopped',
      });
    }
  }

  /** As {@link down}; no session is kept in consumer mode. */
  async downResumable(): Promise<Map<number, Session>> {
    await this.down();
    return new Map<number, Session>();
  }

  /**
   * Sends a payload through shard `shardId`, in the gateway process that owns it.
   * @throws (rejects) ShardNotOwnedError when no process reports it within `commandTimeoutMs`;
   *   RemoteCommandError with the gateway's error (`UnknownShardError`, `CommandError`, ...);
   *   GatewayTimeoutError without an answer.
   */
  async command(shardId: number, payload: CommandPayload): Promise<void> {
    const owner = await this.ownerOf([shardId]);
    await this.send(owner[0] as string, 'command', { shardId, payload });
  }

  /** {@link command} on the shard of `guildId`. */
  async commandForGuild(guildId: string, payload: CommandPayload): Promise<void> {
    const owner = await this.ownerOf([this.shardIdForGuild(guildId)]);
    await this.send(owner[0] as string, 'commandForGuild', { guildId, payload });
  }

  /** Sends a payload through every shard of the bot: each owning process broadcasts on its own. */
  async broadcast(payload: CommandPayload): Promise<void> {
    const owners = await this.ownerOf(Array.from({ length: this.shardCount }, (_, id) => id));
    await Promise.all(
      [...new Set(owners)].map((owner) => this.send(owner, 'broadcast', { payload })),
    );
  }

  /**
   * Op 8 in the gateway process that owns the guild's shard; every GUILD_MEMBERS_CHUNK streams
   * back as it arrives. The request fails as it would there, with ShardNotOwnedError when no
   * process owns the shard.
   */
  requestGuildMembers(guildId: string, options: MemberRequestOptions = {}): MemberRequest {
    const shardId = this.shardIdForGuild(guildId);
    const request = new MemberRequest(
      guildId,
      shardId,
      randomBytes(16).toString('hex'),
      (options.timeoutMs ?? 30_000) + this.commandTimeoutMs,
      systemClock,
      () => undefined,
    );
    this.ownerOf([shardId])
      .then(([owner]) =>
        this.send(owner as string, 'requestGuildMembers', { guildId, options }, (chunk) =>
          request.handleChunk(chunk as GatewayGuildMembersChunkDispatchData),
        ),
      )
      .catch((error: unknown) => request.fail(error));
    return request;
  }

  // ---- shards, leases, reading ------------------------------------------------------------

  /** Creates the group on every shard stream where it is missing (and the stream, MKSTREAM). */
  private async createGroups(): Promise<void> {
    await Promise.all(Array.from({ length: this.shardCount }, (_, id) => this.createGroup(id)));
  }

  /**
   * Redis lost the group (a restart without persistence): it is created again on every shard
   * stream, not only those this consumer holds (it may have lost their leases with the data);
   * logged once per loss. Never throws: the next failing read or lease round tries again.
   */
  private async recreateGroups(): Promise<void> {
    if (this.recreatingGroups) return;
    this.recreatingGroups = true;
    this.logger.warn(
      `Group ${this.group} is missing in Redis (restarted without persistence?); creating it again`,
    );
    try {
      await this.createGroups();
    } catch {
      // Redis went away again: the next failing read or lease round retries.
    } finally {
      this.recreatingGroups = false;
    }
  }

  private async createGroup(shardId: number): Promise<void> {
    try {
      await this.redis.xgroup(
        'CREATE',
        this.keys.events(this.shardCount, shardId),
        this.group,
        '0',
        'MKSTREAM',
      );
    } catch (error) {
      if (!/BUSYGROUP/.test((error as Error).message)) throw error;
    }
  }

  /** One lease round ({@link ShardLeases.round}); then the gateway reports. */
  private async tick(): Promise<void> {
    // While Redis is away a round waits in the client's offline queue; rounds must not pile up
    // behind it and then run at once (each would renew, judge and take the same leases).
    if (!this.running || this.ticking) return;
    this.ticking = true;
    try {
      await this.leaseRound();
    } finally {
      this.ticking = false;
    }
  }

  private async leaseRound(): Promise<void> {
    try {
      await this.leases.round();
      const holding = this.shardIds.join(', ');
      if (holding !== this.holding) {
        this.holding = holding;
        this.logger.log(
          `Consumer ${this.consumerName} of group ${this.group} reads shards ${holding || 'none'} of ${this.shardCount}`,
        );
      }
      if (this.readFailing) {
        this.readFailing = false;
        this.logger.log(`Consumer ${this.consumerName} reaches Redis again`);
      }
    } catch (error) {
      // Redis answers, but lost the group with its data: taking a lease reads its pending list.
      if (isNoGroup(error)) await this.recreateGroups();
      else if (!this.readFailing) {
        this.readFailing = true;
        this.logger.warn(
          `Consumer ${this.consumerName} cannot reach Redis (${describeError(error)}); it retries`,
        );
      }
    }
    await this.readReports().catch(() => undefined);
  }

  /** Delivers one entry to the subscribers and listeners; resolves once every listener finished. */
  private async deliver(shardId: number, entryId: string, fields: string[] | null): Promise<void> {
    if (fields === null) return;
    let type = '';
    let raw = 'null';
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (fields[i] === 't') type = fields[i + 1] as string;
      else if (fields[i] === 'd') raw = fields[i + 1] as string;
    }
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      this.logger.warn(`Entry ${entryId} of shard ${shardId} is not JSON; acknowledged unhandled`);
      return;
    }
    const sequence = Number(entryId.slice(entryId.indexOf('-') + 1));
    const event = { shardId, type, data, sequence, entryId } as GatewayEvent;
    for (const subscription of this.subscriptions) {
      if (subscription.types === null || subscription.types.has(type)) {
        try {
          subscription.listener(event);
        } catch (error) {
          this.logger.error(`A subscriber of ${type} (shard ${shardId}) threw`, error);
        }
      }
    }
    const results: unknown[] = [];
    for (const listener of this.listeners) {
      try {
        results.push(listener(event));
      } catch (error) {
        this.logger.error(`A listener of ${type} (shard ${shardId}) threw`, error);
      }
    }
    await Promise.all(
      results.map((r) =>
        Promise.resolve(r).catch((error: unknown) =>
          this.logger.error(`A listener of ${type} (shard ${shardId}) rejected`, error),
        ),
      ),
    );
  }

  // ---- gateway reports and commands -------------------------------------------------------

  private async readReports(): Promise<void> {
    const names = await this.redis.zrange(this.keys.processes(this.shardCount), 0, -1);
    const values =
      names.length === 0
        ? []
        : await this.redis.mget(...names.map((n) => this.keys.process(this.shardCount, n)));
    const reports: GatewayProcessReport[] = [];
    values.forEach((value, index) => {
      if (value === null) {
        void this.redis.zrem(this.keys.processes(this.shardCount), names[index] as string);
        return;
      }
      try {
        reports.push(JSON.parse(value) as GatewayProcessReport);
      } catch {
        // A report being rewritten; the next round reads it.
      }
    });
    this.reports = reports;
    this.verdict = await judgeAcrossProcesses(
      { reports: async () => reports.map((r) => r.health) },
      { shardCount: this.shardCount, staleAfterMs: 3 * this.leaseMs },
    );
    this.warnUnowned();
    this.warnUnpublished();
    const active = new Set(
      this.info()
        .filter((s) => s.state === ShardState.Active)
        .map((s) => s.id),
    );
    if (active.size === this.shardCount) this.ready.resolve();
  }

  /**
   * Warns when a shard that a gateway process reported is reported by none any more (that
   * process died or lost Redis: the shard's dispatches stop until a process takes it), and
   * says when one reports it again. Silent before any process reported the shard.
   */
  private warnUnowned(): void {
    const reporting = this.reportingProcesses();
    for (let id = 0; id < this.shardCount; id++) {
      const owner = reporting.get(id);
      const was = this.lastOwners.get(id);
      if (owner !== undefined) {
        if (was === null) {
          this.logger.log(`Shard ${id} is reported again, by gateway process ${owner}`);
        }
        this.lastOwners.set(id, owner);
      } else if (was !== undefined && was !== null) {
        this.lastOwners.set(id, null);
        this.logger.warn(
          `Shard ${id} is reported by no gateway process any more (${was} stopped reporting it); ` +
            'its dispatches stop until a gateway process takes it',
        );
      }
    }
  }

  /** Warns once about handled types no gateway process publishes. */
  private warnUnpublished(): void {
    if (this.warnedTypes || this.reports.length === 0) return;
    this.warnedTypes = true;
    const published = new Set(this.reports.flatMap((r) => r.eventTypes));
    const handled =
      this.eventTypes === EventTypeFlags.ALL ? [] : EventTypeFlags.toTypes(this.eventTypes);
    // Lifecycle events (SHARD_*, CLUSTER_*) stay in the gateway processes by design.
    const missing = handled.filter(
      (t) => !published.has(t) && !t.startsWith('SHARD_') && !t.startsWith('CLUSTER_'),
    );
    if (missing.length > 0) {
      this.logger.warn(
        `Consumer ${this.consumerName} handles ${missing.join(', ')}, which no gateway process publishes ` +
          `(they publish ${[...published].join(', ') || 'nothing'}); add them to the publisher's eventTypes`,
      );
    }
  }

  /** The process owning each of `shardIds` (same order), waiting up to `commandTimeoutMs` for them to be reported. */
  private async ownerOf(shardIds: readonly number[]): Promise<string[]> {
    const deadline = Date.now() + this.commandTimeoutMs;
    for (;;) {
      const reporting = this.reportingProcesses();
      const owners = shardIds.map((id) => reporting.get(id));
      const missing = shardIds.filter((_, i) => owners[i] === undefined);
      if (missing.length === 0) return owners as string[];
      if (Date.now() >= deadline) throw new ShardNotOwnedError(missing, this.commandTimeoutMs);
      await sleep(Math.min(200, Math.max(1, deadline - Date.now())));
      await this.readReports().catch(() => undefined);
    }
  }

  /** Whether gateway process `process` reported within the last three lease periods. */
  private reported(process: string): boolean {
    const fresh = Date.now() - 3 * this.leaseMs;
    return this.reports.some((r) => r.process === process && r.reportedAt >= fresh);
  }

  /**
   * The gateway process reporting each shard: of the reports of the last three lease periods,
   * the newest that lists it. One pass over the reports, for any number of shards.
   */
  private reportingProcesses(): Map<number, string> {
    const fresh = Date.now() - 3 * this.leaseMs;
    const newest = new Map<number, GatewayProcessReport>();
    for (const report of this.reports) {
      if (report.reportedAt < fresh) continue;
      for (const { id } of report.shards) {
        const best = newest.get(id);
        if (best === undefined || best.reportedAt < report.reportedAt) newest.set(id, report);
      }
    }
    return new Map([...newest].map(([id, report]) => [id, report.process]));
  }

  private send(
    process: string,
    kind: CommandKind,
    args: unknown,
    onChunk?: (chunk: unknown) => void,
  ): Promise<void> {
    const id = randomBytes(8).toString('hex');
    const sentAt = Date.now();
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let accepted = false;
      const giveUp = (error: Error) => {
        this.pending.delete(id);
        reject(error);
      };
      // Before 'accepted', silence for commandTimeoutMs fails the command (the process drops it
      // unread once expired). After it, the command may wait behind the process's limits for
      // as long as they need, like an in-process one, while the process keeps reporting.
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (!accepted) {
            giveUp(
              new GatewayTimeoutError(
                `the answer of gateway process ${process} to ${kind}`,
                this.commandTimeoutMs,
              ),
            );
          } else if (this.reported(process)) {
            arm();
          } else {
            giveUp(
              new GatewayTimeoutError(
                `the outcome of ${kind} from gateway process ${process}, which accepted it and then stopped reporting`,
                Date.now() - sentAt,
              ),
            );
          }
        }, this.commandTimeoutMs);
      };
      this.pending.set(id, {
        process,
        onReply: (replyKind, body) => {
          if (replyKind === 'accepted' || replyKind === 'chunk') {
            accepted = true;
            arm();
            if (replyKind === 'chunk') onChunk?.(body);
            return;
          }
          clearTimeout(timer);
          this.pending.delete(id);
          if (replyKind === 'ok') resolve();
          else {
            const error = body as SerializedError;
            reject(new RemoteCommandError(error.name, error.code, error.message, process));
          }
        },
      });
      arm();
      this.redis
        .xadd(
          this.keys.commands(this.shardCount, process),
          'MAXLEN',
          '~',
          10_000,
          '*',
          'id',
          id,
          'reply',
          this.keys.replies(this.consumerName),
          'kind',
          kind,
          'args',
          JSON.stringify(args),
          'expiresAt',
          String(Date.now() + this.commandTimeoutMs),
        )
        .catch((error: unknown) => {
          clearTimeout(timer);
          this.pending.delete(id);
          reject(error);
        });
    });
  }

  private async readReplies(): Promise<void> {
    let last = '0';
    const key = this.keys.replies(this.consumerName);
    while (this.replying) {
      try {
        const reply = (await this.replyReader.xread(
          'BLOCK',
          1_000,
          'STREAMS',
          key,
          last,
        )) as StreamReply | null;
        for (const [, entries] of reply ?? []) {
          for (const [entryId, fields] of entries) {
            last = entryId;
            const f: Record<string, string> = {};
            for (let i = 0; i + 1 < fields.length; i += 2)
              f[fields[i] as string] = fields[i + 1] as string;
            let body: unknown = null;
            try {
              body = JSON.parse(f.body ?? 'null');
            } catch {
              body = null;
            }
            this.pending.get(f.id ?? '')?.onReply(f.kind ?? '', body);
          }
        }
      } catch {
        if (!this.replying) return;
        await sleep(250);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
