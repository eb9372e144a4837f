import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Cluster } from '../gateway/cluster/cluster.js';
import type { EventSink } from '../gateway/cluster/event-sink.js';
import { describeError, type ConfigIssue } from '../gateway/errors/errors.js';
import { ALL_EVENT_TYPES, EventType, LifecycleEventType } from '../gateway/events/event-type.js';
import { EventTypeFlags } from '../gateway/events/event-type-flags.js';
import type { GatewayEvent, ShardConnectedData } from '../gateway/events/gateway-event.js';
import { silentLogger, type GatewayLogger } from '../gateway/logger.js';
import type { ProcessHealthReport } from '../gateway/health/across-processes.js';
import type { Session } from '../gateway/session/session.js';
import type { ShardInfo } from '../gateway/shard/shard-info.js';
import { CommandServer } from './command-server.js';
import { RedisKeys, type BotIdentity } from './keys.js';
import { RedisScript } from './script.js';

/** Default approximate cap of each shard's stream, in entries. */
export const DEFAULT_STREAM_MAX_LEN = 100_000;
/** Default bound of the entries waiting for Redis, across every shard of the process. */
export const DEFAULT_PUBLISH_BUFFER = 50_000;
/** Default interval of the process reports (and of the trimming check), in ms. */
export const DEFAULT_REPORT_INTERVAL_MS = 2_000;

/** Options of {@link RedisEventPublisher}. Times in ms. */
export interface RedisEventPublisherOptions extends BotIdentity {
  /** A connected (or connecting) ioredis client. Never closed by the publisher: it is yours. */
  readonly redis: Redis;
  /**
   * The dispatch types to publish (names or flags). The Cluster decodes them whatever its own
   * listeners want. Lifecycle types (`SHARD_*`, `CLUSTER_*`) are never published.
   */
  readonly eventTypes: readonly EventType[] | EventTypeFlags | 'all';
  /** Approximate cap of each shard's stream (`XADD MAXLEN ~`). Default 100_000. */
  readonly maxLen?: number;
  /**
   * Entries waiting for Redis (it is slow or unreachable), across every shard; beyond this,
   * new dispatches are dropped, counted and logged. Default 50_000.
   */
  readonly bufferSize?: number;
  /** This process's name in the reports and in the command stream's key. Default `<host>-<pid>`. */
  readonly processName?: string;
  /**
   * How often the process reports its shards in Redis and checks its streams for entries
   * trimmed before a group read them. A report lives 3 intervals. Default 2_000.
   */
  readonly reportIntervalMs?: number;
  /** At the Cluster's stop, how long it waits for the buffered entries to reach Redis. Default 5_000. */
  readonly flushTimeoutMs?: number;
  readonly logger?: GatewayLogger;
}

/** Counters of a {@link RedisEventPublisher}, since it was created. */
export interface PublisherStats {
  /** Entries Redis added. */
  readonly published: number;
  /** Entries Redis refused because it already held their id (a replay after a crash-resume). */
  readonly duplicates: number;
  /** Dispatches dropped because the buffer was full while Redis was unreachable or slow. */
  readonly dropped: number;
  /** Dispatches without `s`, never published (see the class doc). */
  readonly unsequenced: number;
  /** Entries trimmed before some group read them, by group name. */
  readonly trimmedUnread: Readonly<Record<string, number>>;
  /** Entries waiting for Redis now. */
  readonly buffered: number;
}

/** What a gateway process writes in Redis about itself (JSON), read by consumers and health checks. */
export interface GatewayProcessReport {
  /** The process's name ({@link RedisEventPublisherOptions.processName}). */
  readonly process: string;
  /** Wall-clock ms of the report. */
  readonly reportedAt: number;
  readonly shardCount: number;
  /** Its shards: state, session, sequence, latency as `Cluster.info()` gives them. */
  readonly shards: readonly ShardInfo[];
  /** The health view of its shards, for `judgeAcrossProcesses`. */
  readonly health: ProcessHealthReport;
  /** The dispatch types it publishes. */
  readonly eventTypes: readonly string[];
  readonly stats: PublisherStats;
}

/** One session of a shard: its entries are numbered `<generation>-<s>`. */
interface Epoch {
  /** `null` until Redis gave one (INCR). */
  generation: number | null;
  readonly sessionId: string | null;
}

interface Entry {
  readonly epoch: Epoch;
  readonly sequence: number;
  readonly type: string;
  readonly data: string;
}

interface ShardStream {
  readonly id: number;
  readonly key: string;
  epoch: Epoch;
  /** Waiting for Redis, in order; the first `sending` of them are on their way. */
  readonly pending: Entry[];
  sending: number;
  flushing: boolean;
}

/**
 * A new generation, greater than the stored one and than the generation of the stream's last
 * entry (the counter may be gone after a Redis restart while the stream was written again).
 * KEYS: generation, stream.
 */
const GENERATION_SCRIPT = new RedisScript(
  'eventsGeneration',
  `
local g = redis.call('INCR', KEYS[1])
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
if top then
  local last = tonumber(string.match(top[1], '^(%d+)-'))
  if last and last >= g then
    g = last + 1
    redis.call('SET', KEYS[1], g)
  end
end
return g
`,
);

const BATCH = 256;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;
const LIFECYCLE: ReadonlySet<string> = new Set(Object.values(LifecycleEventType));

/**
 * Publishes a Cluster's dispatches to Redis Streams, one stream per shard, for consumer
 * processes (`RedisEventConsumer`, `GatewayModule.forConsumer`). Give it to the Cluster as
 * `eventSink` (or to `GatewayModule.forRoot` as `eventSink`), with a `RedisSessionStore`.
 *
 * - **What.** Every dispatch of `eventTypes` the shards decode, after the EventTypeFlags filter,
 *   as an entry `{ t, d }` (`d` as JSON) in `<prefix>:{<bot>}:shards:<count>:events:<shard>`.
 * - **Entry ids `<generation>-<s>`.** A session that starts with READY takes a new generation
 *   from `INCR`; a resumed session keeps the one stored with it. Redis refuses an id at or
 *   below the stream's last one, so the replay that follows a crash-resume is refused entry by
 *   entry (counted as `duplicates`): each dispatch enters the stream exactly once.
 * - **Sessions.** The Cluster's session saves store the last sequence below every entry still
 *   waiting for Redis, and the generation: a process killed now is resumed from a position
 *   Redis confirmed, so nothing between it and the kill is lost.
 * - **Dispatches without `s`** (Discord gives every dispatch one; a RATE_LIMITED may come
 *   without) have no place in the numbering: they are not published, only counted
 *   (`unsequenced`), and the gateway process's own listeners still receive them.
 * - **Trimming.** `XADD MAXLEN ~ maxLen`. Each report interval, the streams' groups are checked:
 *   entries trimmed before a group read them are counted per group and logged (warn).
 * - **Redis down.** The shards are never touched. Entries wait in a buffer bounded by
 *   `bufferSize`, retried with backoff; beyond the bound new dispatches are dropped, counted
 *   and logged; publishing resumes by itself and the outage is logged with what it cost.
 * - **Reports and commands.** Every `reportIntervalMs` the process writes its shards, states and
 *   counters ({@link GatewayProcessReport}) with a TTL of 3 intervals, and it runs the commands
 *   consumers send to its shards (see `RedisEventConsumer`).
 */
export class RedisEventPublisher implements EventSink<Cluster> {
  readonly eventTypes: EventTypeFlags;
  readonly keys: RedisKeys;
  readonly processName: string;
  readonly maxLen: number;
  readonly bufferSize: number;
  readonly reportIntervalMs: number;
  readonly flushTimeoutMs: number;

  private readonly redis: Redis;
  private readonly logger: GatewayLogger;
  private readonly types: ReadonlySet<string>;
  private readonly streams = new Map<number, ShardStream>();
  private cluster: Cluster | null = null;
  private shardCount = 0;
  private buffered = 0;
  private published = 0;
  private duplicates = 0;
  private dropped = 0;
  private unsequenced = 0;
  private readonly trimmed = new Map<string, number>();
  /** Per stream and group: the unread-trimmed count first seen (the baseline) and since. */
  private readonly trimBaseline = new Map<string, number>();
  private failingSince: number | null = null;
  private droppedInOutage = 0;
  private retryMs = RETRY_MIN_MS;
  private reportTimer: NodeJS.Timeout | undefined;
  private commands: CommandServer | null = null;
  private detached = false;
  private readonly idleWaiters = new Set<() => void>();

  /** @throws ConfigError listing every invalid option. */
  constructor(options: RedisEventPublisherOptions) {
    const issues: ConfigIssue[] = [];
    if (typeof (options.redis as Partial<Redis> | undefined)?.xadd !== 'function') {
      issues.push({ path: 'redis', rule: 'must be an ioredis client' });
    }
    let flags: EventTypeFlags = 0n;
    const types = options.eventTypes;
    if (types === 'all') flags = EventTypeFlags.ALL;
    else if (typeof types === 'bigint') flags = types;
    else if (Array.isArray(types)) {
      const unknown = types.filter((t) => !ALL_EVENT_TYPES.includes(t));
      if (unknown.length > 0) {
        issues.push({ path: 'eventTypes', rule: 'must list event type names (EventType)' });
      } else flags = EventTypeFlags.of(...types);
    } else {
      issues.push({ path: 'eventTypes', rule: "must be event type names, flags or 'all'" });
    }
    const checkInteger = (path: string, value: number | undefined, min: number): void => {
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= min)) {
        issues.push({ path, rule: `must be an integer >= ${min}` });
      }
    };
    checkInteger('maxLen', options.maxLen, 1);
    checkInteger('bufferSize', options.bufferSize, 1);
    checkInteger('reportIntervalMs', options.reportIntervalMs, 100);
    checkInteger('flushTimeoutMs', options.flushTimeoutMs, 0);
    if (
      options.processName !== undefined &&
      !/^[A-Za-z0-9._:-]{1,100}$/.test(options.processName)
    ) {
      issues.push({
        path: 'processName',
        rule: 'must be 1 to 100 letters, digits, ".", "_", ":" or "-"',
      });
    }
    this.keys = RedisKeys.orIssues(options, issues);
    this.redis = options.redis;
    this.types = new Set(EventTypeFlags.toTypes(flags).filter((t) => !LIFECYCLE.has(t)));
    this.eventTypes = EventTypeFlags.of(...(this.types as ReadonlySet<EventType>));
    this.maxLen = options.maxLen ?? DEFAULT_STREAM_MAX_LEN;
    this.bufferSize = options.bufferSize ?? DEFAULT_PUBLISH_BUFFER;
    this.reportIntervalMs = options.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_MS;
    this.flushTimeoutMs = options.flushTimeoutMs ?? 5_000;
    this.processName = options.processName ?? `${hostname()}-${process.pid}`;
    this.logger = options.logger ?? silentLogger;
  }

  /** The counters since creation. */
  stats(): PublisherStats {
    return {
      published: this.published,
      duplicates: this.duplicates,
      dropped: this.dropped,
      unsequenced: this.unsequenced,
      trimmedUnread: Object.fromEntries(this.trimmed),
      buffered: this.buffered,
    };
  }

  attach(cluster: Cluster, sessions: ReadonlyMap<number, Session>): void {
    this.cluster = cluster;
    this.shardCount = cluster.shardCount;
    for (const id of cluster.shardIds) {
      const session = sessions.get(id);
      this.streams.set(id, {
        id,
        key: this.keys.events(this.shardCount, id),
        epoch: { generation: session?.generation ?? null, sessionId: session?.id ?? null },
        pending: [],
        sending: 0,
        flushing: false,
      });
    }
    this.commands = new CommandServer({
      redis: this.redis,
      key: this.keys.commands(this.shardCount, this.processName),
      cluster,
      logger: this.logger,
    });
    this.commands.start();
    this.logger.log(
      `Publishing ${[...this.types].join(', ') || 'no event type'} of shards ${cluster.shardIds.join(', ')} ` +
        `to Redis streams (process ${this.processName})`,
    );
    void this.report();
    this.reportTimer = setInterval(() => void this.report(), this.reportIntervalMs);
    this.reportTimer.unref();
  }

  publish(event: GatewayEvent): void {
    const stream = this.streams.get(event.shardId);
    if (stream === undefined) return;
    const sequence = event.sequence;
    if (sequence === null) {
      if (event.type === EventType.ShardConnected) {
        if (!(event.data as ShardConnectedData).resuming) {
          stream.epoch = { generation: null, sessionId: null };
        }
      } else if (this.types.has(event.type)) {
        this.unsequenced++;
      }
      return;
    }
    if (!this.types.has(event.type)) return;
    if (this.buffered >= this.bufferSize) {
      this.drop();
      return;
    }
    let data: string;
    try {
      data = JSON.stringify(event.data);
    } catch (error) {
      this.logger.error(
        `Cannot publish ${event.type} of shard ${event.shardId} (s ${sequence}): ${describeError(error)}`,
      );
      return;
    }
    stream.pending.push({ epoch: stream.epoch, sequence, type: event.type, data });
    this.buffered++;
    if (!stream.flushing) {
      stream.flushing = true;
      // One flush per turn of the event loop: the dispatches of one read go in one pipeline.
      setImmediate(() => void this.flush(stream));
    }
  }

  sessionToSave(shardId: number, session: Session): Session {
    const stream = this.streams.get(shardId);
    if (stream === undefined) return session;
    const epoch = stream.epoch;
    let sequence = session.sequence;
    const head = stream.pending.find((entry) => entry.epoch === epoch);
    if (head !== undefined) sequence = Math.min(sequence, head.sequence - 1);
    const { id, resumeUrl } = session;
    return epoch.generation === null
      ? { id, sequence, resumeUrl }
      : { id, sequence, resumeUrl, generation: epoch.generation };
  }

  async detach(): Promise<void> {
    if (this.detached) return;
    clearInterval(this.reportTimer);
    await this.commands?.stop();
    if (this.buffered > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.add(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.flushTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (this.buffered > 0) {
        this.logger.warn(
          `Stopping with ${this.buffered} dispatch(es) not in Redis after ${this.flushTimeoutMs} ms; ` +
            'the stored sessions start before them, so the next process resumes and publishes them',
        );
      }
    }
    this.detached = true;
    try {
      await this.redis.del(this.keys.process(this.shardCount, this.processName));
      await this.redis.zrem(this.keys.processes(this.shardCount), this.processName);
    } catch {
      // The report expires by itself.
    }
  }

  private drop(): void {
    this.dropped++;
    this.droppedInOutage++;
    if (this.droppedInOutage === 1) {
      this.logger.warn(
        `Redis publishing buffer full (${this.bufferSize} entries): new dispatches are dropped until Redis catches up`,
      );
    }
  }

  private async flush(stream: ShardStream): Promise<void> {
    while (stream.pending.length > 0 && !this.detached) {
      const batch = stream.pending.slice(0, BATCH);
      stream.sending = batch.length;
      let done: number;
      try {
        done = await this.send(stream, batch);
      } catch (error) {
        done = 0;
        this.failing(error);
      }
      stream.sending = 0;
      if (done > 0) {
        stream.pending.splice(0, done);
        this.buffered -= done;
      }
      if (done < batch.length) {
        await new Promise((resolve) => setTimeout(resolve, this.retryMs));
        this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
      }
    }
    stream.flushing = false;
    if (this.buffered === 0) {
      for (const wake of this.idleWaiters) wake();
      this.idleWaiters.clear();
    }
  }

  /** Sends `batch` in one pipeline; returns how many of its first entries are settled. */
  private async send(stream: ShardStream, batch: readonly Entry[]): Promise<number> {
    for (const entry of batch) {
      if (entry.epoch.generation === null) {
        entry.epoch.generation = Number(
          await GENERATION_SCRIPT.run(
            this.redis,
            [this.keys.generation(this.shardCount, stream.id), stream.key],
            [],
          ),
        );
      }
    }
    const pipeline = this.redis.pipeline();
    for (const entry of batch) {
      pipeline.xadd(
        stream.key,
        'MAXLEN',
        '~',
        this.maxLen,
        `${entry.epoch.generation}-${entry.sequence}`,
        't',
        entry.type,
        'd',
        entry.data,
      );
    }
    const results = (await pipeline.exec()) ?? [];
    let done = 0;
    for (const [error] of results) {
      if (error === null) this.published++;
      else if (/equal or smaller than the target stream top item/.test(error.message)) {
        this.duplicates++;
      } else {
        this.failing(error);
        return done;
      }
      done++;
    }
    this.recovered();
    return done;
  }

  private failing(error: unknown): void {
    if (this.failingSince !== null) return;
    this.failingSince = Date.now();
    this.logger.warn(
      `Cannot publish to Redis (${describeError(error)}); the shards go on, dispatches wait ` +
        `(up to ${this.bufferSize}) and are retried`,
    );
  }

  private recovered(): void {
    this.retryMs = RETRY_MIN_MS;
    if (this.failingSince === null && this.droppedInOutage === 0) return;
    const ms = this.failingSince === null ? 0 : Date.now() - this.failingSince;
    const dropped = this.droppedInOutage;
    this.failingSince = null;
    this.droppedInOutage = 0;
    const message = `Publishing to Redis again (after ${ms} ms); ${dropped} dispatch(es) dropped meanwhile`;
    if (dropped > 0) this.logger.warn(message);
    else this.logger.log(message);
  }

  private async report(): Promise<void> {
    const cluster = this.cluster;
    if (cluster === null || this.detached) return;
    const ttl = 3 * this.reportIntervalMs;
    const report: GatewayProcessReport = {
      process: this.processName,
      reportedAt: Date.now(),
      shardCount: this.shardCount,
      shards: cluster.info(),
      health: cluster.processHealthReport(this.processName),
      eventTypes: [...this.types],
      stats: this.stats(),
    };
    try {
      await this.redis
        .multi()
        .set(
          this.keys.process(this.shardCount, this.processName),
          JSON.stringify(report),
          'PX',
          ttl,
        )
        .zadd(this.keys.processes(this.shardCount), report.reportedAt, this.processName)
        .exec();
      await this.checkTrimming();
    } catch (error) {
      this.logger.debug(`Cannot write this process's report to Redis: ${describeError(error)}`);
    }
  }

  /**
   * Entries trimmed before a group read them: `entries-added - length - entries-read` of each
   * group (Redis 7), counted from the first value seen, so what was trimmed before this
   * process started is not counted again.
   */
  private async checkTrimming(): Promise<void> {
    const pipeline = this.redis.pipeline();
    const ids = [...this.streams.keys()];
    for (const id of ids) {
      const key = this.keys.events(this.shardCount, id);
      pipeline.xinfo('STREAM', key);
      pipeline.xinfo('GROUPS', key);
    }
    const results = (await pipeline.exec()) ?? [];
    ids.forEach((id, index) => {
      const [streamError, streamInfo] = results[2 * index] ?? [];
      const [groupsError, groups] = results[2 * index + 1] ?? [];
      if (streamError || groupsError) return;
      const info = pairs(streamInfo as unknown[]);
      const added = Number(info['entries-added']);
      const length = Number(info.length);
      for (const group of groups as unknown[][]) {
        const fields = pairs(group);
        // Redis leaves entries-read unset for a group that never read; it has then read none.
        const read = fields['entries-read'] ?? (fields['last-delivered-id'] === '0-0' ? 0 : null);
        if (read === null || !Number.isFinite(added)) continue;
        const unread = Math.max(0, added - length - Number(read));
        const name = String(fields.name);
        const baselineKey = `${id}:${name}`;
        const before = this.trimBaseline.get(baselineKey);
        this.trimBaseline.set(baselineKey, unread);
        if (before === undefined || unread <= before) continue;
        const lost = unread - before;
        this.trimmed.set(name, (this.trimmed.get(name) ?? 0) + lost);
        this.logger.warn(
          `Stream of shard ${id} trimmed ${lost} entr${lost === 1 ? 'y' : 'ies'} group ${name} had not read ` +
            `(maxLen ${this.maxLen}): those dispatches are lost for that group`,
        );
      }
    });
  }
}

/** A Redis reply `[k1, v1, k2, v2, ...]` as an object. */
function pairs(reply: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}
