import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { systemClock, type Clock, type TimerHandle } from '../gateway/clock/clock.js';
import { DEFAULTS } from '../gateway/config/defaults.js';
import { DEFAULT_IDENTIFY_MARGIN_MS } from '../gateway/queue/in-memory-queue.js';
import { tokenProblem, toToken } from '../gateway/config/schema.js';
import type { Token } from '../gateway/config/token.js';
import {
  AbortedError,
  ConfigError,
  describeError,
  HttpError,
  IdentifyBudgetError,
  type ConfigIssue,
} from '../gateway/errors/errors.js';
import { consoleLogger, type GatewayLogger } from '../gateway/logger.js';
import type { IdentifyQueue } from '../gateway/queue/identify-queue.js';
import { joinLine, leaveLine, type IdentifyWaiter } from '../gateway/queue/waiter.js';
import type {
  BudgetExhaustedPolicy,
  IdentifyQueueInsight,
} from '../gateway/queue/in-memory-queue.js';
import { botIdFromToken, DEFAULT_KEY_PREFIX, RedisKeys } from './keys.js';
import { SharedIdentifyBudget, type RedisIdentifyBudget } from './shared-budget.js';
import {
  CONFIRM_SCRIPT,
  FENCE_SCRIPT,
  GRANT_SCRIPT,
  LEAVE_SCRIPT,
  REFUND_SCRIPT,
} from './script.js';

/*
 * The margin's default is the in-process queue's (DEFAULT_IDENTIFY_MARGIN_MS of the core): a
 * grant closes its bucket for `windowMs + identifyMarginMs` on Redis's clock, but Discord judges
 * the window by when each IDENTIFY arrives, after the grant's way back from Redis, the process's
 * event loop and its own way to Discord. Between two processes those differ by the gap between
 * their network paths and a busy event loop, tens to a few hundred ms.
 */
export { DEFAULT_IDENTIFY_MARGIN_MS };

/** Options of {@link RedisIdentifyQueue}. Times in ms. */
export interface RedisIdentifyQueueOptions {
  /** A connected (or connecting) ioredis client. The queue never closes it: it is yours. */
  readonly redis: Redis;
  /**
   * The bot token, with or without a `Bot ` prefix: GET /gateway/bot reads the budget with it,
   * and the bot's id in the keys is derived from it (see `botId`).
   */
  readonly token: string | Token;
  /** The bot id in the keys. Default: from the token's first segment. */
  readonly botId?: string;
  /** First part of every key. Default `'discord-gateway'`. */
  readonly keyPrefix?: string;
  /**
   * The bot's shard count (`num_shards`): buckets are kept per shard count. Default: given by
   * the Cluster on `up()` ({@link prepare}).
   */
  readonly shardCount?: number;
  /**
   * Buckets (`shard_id % max_concurrency`). Default: the value stored in Redis by the bot's
   * other processes, else `max_concurrency` from GET /gateway/bot.
   */
  readonly maxConcurrency?: number;
  /** One IDENTIFY per bucket per window. Default 5_000 (Discord's). */
  readonly windowMs?: number;
  /** Added to every window; see {@link DEFAULT_IDENTIFY_MARGIN_MS}. Default 250. */
  readonly identifyMarginMs?: number;
  /**
   * Session starts never spent: a grant needs `remaining > budgetFloor`. Default 1, the
   * strictest reading of Discord's rule that reaching the daily limit resets the token.
   */
  readonly budgetFloor?: number;
  /** At the floor: `'fail'` (default) rejects with IdentifyBudgetError; `'wait'` holds shards until the reset. */
  readonly onBudgetExhausted?: BudgetExhaustedPolicy;
  /** REST base of GET /gateway/bot. Default `'https://discord.com/api/v10'`. */
  readonly apiUrl?: string;
  /** Times the waits (Redis's clock times the windows). Default the system clock. */
  readonly clock?: Clock;
  /**
   * Where warnings (Redis lost its data, Redis unreachable, a bad stored value) and debug lines
   * go. Default: the console, warnings and errors only. In a Nest app:
   * `nestGatewayLogger(new Logger('Redis'))`.
   */
  readonly logger?: GatewayLogger;
}

/** The daily budget as Redis holds it. */
type GrantReply =
  | ['no-state']
  | ['mc-mismatch', number]
  | ['no-budget']
  | ['exhausted', number, number]
  | ['wait', number, number, number]
  | ['granted', number, number];

/** This process's waiters of one bucket. */
interface Line {
  readonly bucket: number;
  readonly waiters: IdentifyWaiter[];
  /** A grant attempt is on its way to Redis. */
  busy: boolean;
  timer: TimerHandle | undefined;
  /** This process may hold a place in Redis's line of the bucket. */
  joined: boolean;
  /** Clock reading when the bucket's window ends, as last seen. */
  freeAt: number;
  /** Processes ahead of this one in the bucket's line, and the line's length, as last seen. */
  ahead: number;
  length: number;
}

/** Waits while another process reads GET /gateway/bot, and between attempts in a line whose head is due. */
const POLL_MS = 50;
/** First and longest wait before trying an unreachable Redis again. */
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;
/** An attempt this long on a client that is not connected counts as an outage (logged). */
const UNREACHABLE_AFTER_MS = 5_000;

/**
 * An {@link IdentifyQueue} shared by every process of a bot through Redis. Processes on
 * any number of machines keep one IDENTIFY pace per bucket and spend one daily budget.
 *
 * - **Windows.** A grant sets the bucket's key with `SET PX` for `windowMs + identifyMarginMs`
 *   and leaves it to expire: Redis's clock times every window, so clock skew between machines
 *   does not matter. Once the shard has sent its IDENTIFY, the window starts again from that
 *   moment, so a process stalled between grant and send does not shorten it.
 * - **Budget.** Read from GET /gateway/bot (`session_start_limit`) by one process when Redis
 *   holds none, and kept until `reset_after` (any length: the key expires in Redis, local
 *   waits are chained timers). Each grant checks the floor, decrements the budget and closes
 *   the bucket in one Lua script. At the floor: IdentifyBudgetError, or a wait for the reset.
 * - **Fairness.** FIFO within a process; between processes a line per bucket in Redis, where
 *   each waiting process holds one place at a time (so processes take turns, and none
 *   starves). A place lapses when its process stops renewing it (2 windows), so a crashed
 *   process does not block a bucket.
 * - **max_concurrency** is stored once per bot. A process that paces with another value is
 *   refused with a ConfigError (its buckets would not be Discord's).
 * - **Redis loses its data** (a restart without persistence): the next grant finds no state,
 *   closes every bucket for one window + margin before any IDENTIFY (a grant just before the
 *   loss may have reached Discord), and the budget is read again from GET /gateway/bot. Both
 *   are logged (warn).
 * - **Redis unreachable**: waiters keep waiting and retry with backoff (logged once per
 *   outage, also when the client holds commands in its offline queue instead of failing them:
 *   an attempt still open after 5 s on a client that is not `ready`); no IDENTIFY is sent
 *   without a grant.
 *
 * Waits are abortable (`AbortedError`); {@link close} rejects every waiter.
 *
 * @example
 * const queue = new RedisIdentifyQueue({ redis: new Redis(url), token });
 * const cluster = new Cluster({ token, intents, shards: { buckets: [0, 1], shardCount: 16, maxConcurrency: 4 } }, { queue });
 */
export class RedisIdentifyQueue implements IdentifyQueue, IdentifyQueueInsight {
  /** The keys this queue uses. */
  readonly keys: RedisKeys;
  readonly windowMs: number;
  readonly identifyMarginMs: number;
  readonly budgetFloor: number;
  /** This process's name in the buckets' lines: host, pid and a random part. */
  readonly member: string;

  private readonly redis: Redis;
  private readonly clock: Clock;
  private readonly logger: GatewayLogger;
  private readonly policy: BudgetExhaustedPolicy;
  private readonly configuredMaxConcurrency: number | undefined;
  private count: number | undefined;
  private mc: number | undefined;
  private readying: Promise<void> | null = null;
  private readonly lines = new Map<number, Line>();
  private readonly abort = new AbortController();
  private readonly budget: SharedIdentifyBudget;
  private closed = false;
  /** Clock reading of the reset while shards wait for it (policy `'wait'`). */
  private resetWaitAt: number | null = null;
  private stateSeen = false;
  private unreachableSince: number | null = null;
  private retryMs = RETRY_MIN_MS;

  /** @throws ConfigError listing every invalid option. */
  constructor(options: RedisIdentifyQueueOptions) {
    const issues: ConfigIssue[] = [];
    const redis = options.redis as Partial<Redis> | undefined;
    if (typeof redis?.defineCommand !== 'function') {
      issues.push({ path: 'redis', rule: 'must be an ioredis client' });
    }
    const tokenIssue = tokenProblem(options.token);
    if (tokenIssue !== null) issues.push({ path: 'token', rule: tokenIssue });
    const checkInteger = (path: string, value: number | undefined, min: number): void => {
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= min)) {
        issues.push({ path, rule: `must be an integer >= ${min}` });
      }
    };
    checkInteger('shardCount', options.shardCount, 1);
    checkInteger('maxConcurrency', options.maxConcurrency, 1);
    checkInteger('windowMs', options.windowMs, 0);
    checkInteger('identifyMarginMs', options.identifyMarginMs, 0);
    checkInteger('budgetFloor', options.budgetFloor, 0);
    if (
      options.onBudgetExhausted !== undefined &&
      options.onBudgetExhausted !== 'fail' &&
      options.onBudgetExhausted !== 'wait'
    ) {
      issues.push({ path: 'onBudgetExhausted', rule: "must be 'fail' or 'wait'" });
    }
    if (options.apiUrl !== undefined && !/^https?:\/\//.test(options.apiUrl)) {
      issues.push({ path: 'apiUrl', rule: 'must be an http: or https: URL' });
    }
    const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    const botId =
      options.botId ?? (tokenIssue === null ? botIdFromToken(options.token) : undefined);
    issues.push(...RedisKeys.issues(prefix, botId));
    if (issues.length > 0) throw new ConfigError(issues);
    this.keys = new RedisKeys(prefix, botId as string);
    this.redis = options.redis;
    this.count = options.shardCount;
    this.configuredMaxConcurrency = options.maxConcurrency;
    this.windowMs = options.windowMs ?? 5_000;
    this.identifyMarginMs = options.identifyMarginMs ?? DEFAULT_IDENTIFY_MARGIN_MS;
    this.budgetFloor = options.budgetFloor ?? 1;
    this.policy = options.onBudgetExhausted ?? 'fail';
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? consoleLogger('warn');
    this.member = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.budget = new SharedIdentifyBudget({
      redis: this.redis,
      keys: this.keys,
      token: toToken(options.token),
      apiUrl: options.apiUrl ?? DEFAULTS.apiUrl,
      clock: this.clock,
      logger: this.logger,
      member: this.member,
      signal: this.abort.signal,
    });
  }

  /** The shard count the buckets are kept for, once known. */
  get shardCount(): number | undefined {
    return this.count;
  }

  /** The max_concurrency this queue paces with, once known ({@link prepare}). */
  get maxConcurrency(): number | undefined {
    return this.mc;
  }

  /** How long a grant closes its bucket: window + margin. */
  get windowWithMarginMs(): number {
    return this.windowMs + this.identifyMarginMs;
  }

  get pendingCount(): number {
    let count = 0;
    for (const line of this.lines.values()) count += line.waiters.length;
    return count;
  }

  get waitingForBudgetResetAt(): number | null {
    return this.resetWaitAt;
  }

  /**
   * Called by the Cluster on `up()` with the bot's shard count; call it yourself before
   * {@link enqueue} when no Cluster does. Settles max_concurrency (checking it against the
   * value stored for the bot) and the identify state in Redis.
   *
   * @throws (rejects) ConfigError when `shardCount` differs from the one given before, or
   *   max_concurrency differs from the bot's stored one; HttpError from GET /gateway/bot;
   *   ioredis's error when Redis cannot be reached.
   */
  async prepare(shardCount?: number): Promise<void> {
    if (shardCount !== undefined) {
      if (this.count !== undefined && this.count !== shardCount) {
        throw new ConfigError([
          {
            path: 'shardCount',
            rule: `is ${this.count} for this queue; a cluster of ${shardCount} shards needs its own queue`,
          },
        ]);
      }
      this.count = shardCount;
    }
    if (this.count === undefined) {
      throw new ConfigError([
        { path: 'shardCount', rule: 'is required when no Cluster prepares the queue' },
      ]);
    }
    this.readying ??= this.watched(this.settle()).then(
      () => this.reachable(),
      (error: unknown) => {
        this.readying = null;
        throw error;
      },
    );
    await this.readying;
  }

  enqueue(shardId: number, signal?: AbortSignal): Promise<void> {
    if (this.mc !== undefined) return this.wait(shardId, signal);
    // Waits that start before max_concurrency is settled queue behind it in call order.
    return this.prepare().then(() => this.wait(shardId, signal));
  }

  private wait(shardId: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.closed || signal?.aborted) {
      return Promise.reject(new AbortedError(`identify wait of shard ${shardId}`));
    }
    const line = this.lineOf(shardId % (this.mc as number));
    const granted = joinLine(line.waiters, shardId, signal, this.logger, () =>
      this.settleLine(line),
    );
    this.drain(line);
    return granted;
  }

  /**
   * An estimate, in ms, of the wait of `shardId` (or of every waiting shard): the bucket's
   * window as last seen in Redis, the processes ahead of this one in the bucket's line, one
   * turn of the line per local shard ahead, and the budget reset when waiting for it.
   */
  eta(shardId?: number): number {
    const now = this.clock.now();
    const window = this.windowWithMarginMs;
    const delay = (line: Line | undefined, index: number): number => {
      let ms =
        line === undefined
          ? 0
          : Math.max(0, line.freeAt - now) +
            (line.ahead + index * Math.max(1, line.length)) * window;
      if (this.resetWaitAt !== null) ms = Math.max(ms, this.resetWaitAt - now);
      return ms;
    };
    if (shardId === undefined) {
      let latest = 0;
      for (const line of this.lines.values()) {
        if (line.waiters.length > 0)
          latest = Math.max(latest, delay(line, line.waiters.length - 1));
      }
      return latest;
    }
    const line = this.mc === undefined ? undefined : this.lines.get(shardId % this.mc);
    const index = line?.waiters.findIndex((w) => w.shardId === shardId) ?? -1;
    return delay(line, index === -1 ? (line?.waiters.length ?? 0) : index);
  }

  /**
   * Checks that `needed` IDENTIFYs fit in the shared budget above the floor (reading it from
   * GET /gateway/bot when Redis holds none). Other processes may spend it meanwhile: every
   * grant checks again.
   *
   * @returns `null` when they fit; with policy `'wait'`, the clock reading of the reset.
   * @throws (rejects) IdentifyBudgetError when they do not fit and the policy is `'fail'`;
   *   what {@link prepare} throws.
   */
  async checkBudget(needed: number): Promise<number | null> {
    await this.prepare();
    const budget = await this.watched(this.currentBudget());
    this.reachable();
    const usable = Math.max(0, budget.remaining - this.budgetFloor);
    if (needed <= usable) return null;
    if (this.policy === 'fail') throw new IdentifyBudgetError(needed, usable, budget.resetAt);
    return budget.resetAt;
  }

  /** The budget in Redis, read from GET /gateway/bot first when Redis holds none. */
  private async currentBudget(): Promise<RedisIdentifyBudget> {
    let budget = await this.readBudget();
    while (budget === null) {
      if ((await this.refreshBudget()) === false) await this.sleep(POLL_MS);
      budget = await this.readBudget();
    }
    return budget;
  }

  /** The budget Redis holds now, or `null` when it holds none (not read yet, or past its reset). */
  readBudget(): Promise<RedisIdentifyBudget | null> {
    return this.budget.read();
  }

  /**
   * Rejects every waiter with AbortedError, stops every timer and gives up this process's
   * places in the buckets' lines. The Redis client stays open.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    const leaving: Promise<unknown>[] = [];
    for (const line of this.lines.values()) {
      this.clock.clearTimeout(line.timer);
      line.timer = undefined;
      for (const waiter of line.waiters.splice(0)) {
        leaveLine(waiter);
        waiter.reject(new AbortedError(`identify wait of shard ${waiter.shardId}`));
      }
      if (line.joined && !line.busy) leaving.push(this.leave(line));
    }
    await Promise.all(leaving);
  }

  private lineOf(bucket: number): Line {
    let line = this.lines.get(bucket);
    if (line === undefined) {
      line = {
        bucket,
        waiters: [],
        busy: false,
        timer: undefined,
        joined: false,
        freeAt: -Infinity,
        ahead: 0,
        length: 0,
      };
      this.lines.set(bucket, line);
    }
    return line;
  }

  private drain(line: Line): void {
    if (this.closed || line.busy || line.timer !== undefined || line.waiters.length === 0) return;
    line.busy = true;
    this.watched(this.attempt(line)).then(
      () => {
        line.busy = false;
        this.settleLine(line);
      },
      (error: unknown) => {
        line.busy = false;
        this.onAttemptError(line, error);
      },
    );
  }

  /**
   * `work` with Redis, watched for an outage: a client with an offline queue holds a command
   * while it reconnects instead of failing it, so an outage may only show as work that takes
   * long on a client that is not `ready` (logged once per outage; the next answer ends it).
   */
  private watched<T>(work: Promise<T>): Promise<T> {
    const watch = this.clock.setTimeout(() => {
      if (this.redis.status !== 'ready') {
        this.unreachable(`the client is ${this.redis.status} after ${UNREACHABLE_AFTER_MS} ms`);
      }
    }, UNREACHABLE_AFTER_MS);
    return work.finally(() => this.clock.clearTimeout(watch));
  }

  /** After an attempt or an abort: goes on with the next waiter, or leaves Redis's line. */
  private settleLine(line: Line): void {
    if (line.busy) return;
    if (line.waiters.length > 0) {
      this.drain(line);
      return;
    }
    this.clock.clearTimeout(line.timer);
    line.timer = undefined;
    if (line.joined) void this.leave(line);
  }

  /** One round with Redis for the first waiter of `line`: granted, or a timer for the next try. */
  private async attempt(line: Line): Promise<void> {
    for (;;) {
      if (this.closed || line.waiters.length === 0) return;
      const reply = (await GRANT_SCRIPT.run(this.redis, this.grantKeys(line.bucket), [
        this.mc as number,
        this.windowWithMarginMs,
        this.budgetFloor,
        this.member,
        this.leaseMs,
      ])) as GrantReply;
      if (this.closed) {
        if (reply[0] === 'granted') await REFUND_SCRIPT.run(this.redis, [this.keys.budget], []);
        line.joined = true;
        return;
      }
      this.reachable();
      switch (reply[0]) {
        case 'no-state':
          await this.fence();
          continue;
        case 'no-budget':
          if ((await this.refreshBudget()) === false) return this.retryIn(line, POLL_MS);
          continue;
        case 'mc-mismatch':
          return this.failAll(this.mismatch(reply[1]));
        case 'exhausted':
          if (!this.onExhausted(line, reply[1], reply[2])) return;
          continue;
        case 'wait': {
          const [, ttl, ahead, length] = reply;
          line.joined = true;
          line.freeAt = this.clock.now() + Math.max(0, ttl);
          line.ahead = ahead;
          line.length = length;
          // Renew the place in line well before its lease lapses.
          return this.retryIn(line, Math.min(ttl > 0 ? ttl : POLL_MS, this.leaseMs / 3));
        }
        case 'granted': {
          const [, remaining, othersWaiting] = reply;
          line.joined = false;
          line.freeAt = this.clock.now() + this.windowWithMarginMs;
          line.ahead = othersWaiting;
          line.length = othersWaiting + 1;
          this.resetWaitAt = null;
          const waiter = line.waiters.shift();
          if (waiter === undefined) {
            await REFUND_SCRIPT.run(this.redis, [this.keys.budget], []);
            return;
          }
          leaveLine(waiter);
          this.logger.debug(
            `Identify granted to shard ${waiter.shardId} (bucket ${line.bucket}, ${remaining} session starts left)`,
          );
          waiter.resolve();
          // The shard sends IDENTIFY in the promise callbacks of this grant; once they ran, the
          // window starts again from that moment.
          setImmediate(() => void this.confirm(line.bucket, waiter.shardId));
          return;
        }
      }
    }
  }

  /**
   * At the floor. Policy `'fail'`: rejects the first waiter (returns true: the next one tries,
   * and meets the same). Policy `'wait'`: every line waits for the reset (returns false).
   */
  private onExhausted(line: Line, remaining: number, resetInMs: number): boolean {
    const resetAt = this.clock.now() + resetInMs;
    const usable = Math.max(0, remaining - this.budgetFloor);
    if (this.policy === 'fail') {
      const waiter = line.waiters.shift() as IdentifyWaiter;
      leaveLine(waiter);
      this.logger.warn(
        `Identify budget at its floor (${remaining} left, floor ${this.budgetFloor}): shard ${waiter.shardId} is refused`,
      );
      waiter.reject(new IdentifyBudgetError(1, usable, resetAt));
      return true;
    }
    if (this.resetWaitAt === null) {
      this.logger.warn(
        `Identify budget at its floor (${remaining} left, floor ${this.budgetFloor}); ` +
          `${this.pendingCount} shard(s) wait for the reset at ${new Date(resetAt).toISOString()}`,
      );
    }
    this.resetWaitAt = resetAt;
    this.retryIn(line, resetInMs);
    return false;
  }

  private retryIn(line: Line, delayMs: number): void {
    this.clock.clearTimeout(line.timer);
    // Any length: a Clock honours delays beyond Node's timer limit (a budget reset in days).
    line.timer = this.clock.setTimeout(
      () => {
        line.timer = undefined;
        this.drain(line);
      },
      delayMs > 0 ? delayMs : 0,
    );
  }

  private onAttemptError(line: Line, error: unknown): void {
    if (this.closed) return;
    if (error instanceof ConfigError || (error instanceof HttpError && error.status === 401)) {
      this.failAll(error);
      return;
    }
    this.unreachable(`Redis or GET /gateway/bot failed: ${describeError(error)}`);
    const delay = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.retryIn(line, delay);
  }

  /** Logs the start of an outage, once per outage; {@link reachable} ends it. */
  private unreachable(why: string): void {
    if (this.unreachableSince !== null) return;
    this.unreachableSince = this.clock.now();
    this.logger.warn(
      `Identify queue: Redis unreachable (${why}); ${this.pendingCount} shard(s) keep waiting ` +
        'and retry, and none identifies without a grant',
    );
  }

  private reachable(): void {
    if (this.unreachableSince === null) return;
    this.logger.log(
      `Identify queue: Redis answers again (after ${Math.round(this.clock.now() - this.unreachableSince)} ms)`,
    );
    this.unreachableSince = null;
    this.retryMs = RETRY_MIN_MS;
  }

  private failAll(error: Error): void {
    this.logger.error(`Identify queue: ${error.message}`);
    for (const line of this.lines.values()) {
      this.clock.clearTimeout(line.timer);
      line.timer = undefined;
      for (const waiter of line.waiters.splice(0)) {
        leaveLine(waiter);
        waiter.reject(error);
      }
    }
  }

  private mismatch(stored: number): ConfigError {
    return new ConfigError([
      {
        path: 'maxConcurrency',
        rule:
          `is ${this.mc} in this process but ${stored} in Redis (key ${this.keys.maxConcurrency}); ` +
          'every process of a bot must pace with the same max_concurrency (to change it, stop them all and delete that key)',
      },
    ]);
  }

  /** A place in line lapses after two windows without renewal. */
  private get leaseMs(): number {
    return Math.max(1_000, 2 * this.windowWithMarginMs);
  }

  private grantKeys(bucket: number): string[] {
    const count = this.count as number;
    const mc = this.mc as number;
    const key = this.keys.bucket(count, mc, bucket);
    return [
      this.keys.maxConcurrency,
      this.keys.identifyState(count, mc),
      key,
      `${key}:line`,
      `${key}:leases`,
      `${key}:seq`,
      this.keys.budget,
    ];
  }

  /** See CONFIRM_SCRIPT. Failures only log: the window set at the grant still stands. */
  private async confirm(bucket: number, shardId: number): Promise<void> {
    const key = this.keys.bucket(this.count as number, this.mc as number, bucket);
    try {
      const reply = await CONFIRM_SCRIPT.run(
        this.redis,
        [key],
        [this.member, this.windowWithMarginMs],
      );
      if (reply === 0) {
        this.logger.warn(
          `Shard ${shardId}'s IDENTIFY left more than a window after its grant (this process was stalled); ` +
            `another process already holds bucket ${bucket}, so Discord may see two IDENTIFYs of it within one window`,
        );
      }
    } catch (error) {
      this.logger.debug(
        `Identify queue: cannot restart bucket ${bucket}'s window: ${describeError(error)}`,
      );
    }
  }

  private leave(line: Line): Promise<void> {
    line.joined = false;
    const key = this.keys.bucket(this.count as number, this.mc as number, line.bucket);
    return LEAVE_SCRIPT.run(this.redis, [`${key}:line`, `${key}:leases`], [this.member]).then(
      () => undefined,
      (error: unknown) => {
        // The place lapses by itself when its lease runs out.
        this.logger.debug(
          `Identify queue: cannot leave bucket ${line.bucket}'s line: ${describeError(error)}`,
        );
      },
    );
  }

  /** Settles max_concurrency and the identify state (see {@link prepare}). */
  private async settle(): Promise<void> {
    let mc = this.configuredMaxConcurrency;
    while (mc === undefined) {
      const stored = await this.redis.get(this.keys.maxConcurrency);
      if (stored !== null) {
        mc = Number(stored);
        break;
      }
      const budget = await this.readBudget();
      if (budget !== null) {
        mc = budget.maxConcurrency;
        break;
      }
      const reported = await this.refreshBudget();
      if (reported !== false) mc = reported;
      else await this.sleep(POLL_MS);
    }
    this.mc = mc;
    await this.fence();
  }

  /** Marks the identify state present, closing every bucket first when it was not (see the class doc). */
  private async fence(): Promise<void> {
    const count = this.count as number;
    const mc = this.mc as number;
    const buckets = Array.from({ length: mc }, (_, bucket) => this.keys.bucket(count, mc, bucket));
    const reply = (await FENCE_SCRIPT.run(
      this.redis,
      [this.keys.maxConcurrency, this.keys.identifyState(count, mc), ...buckets],
      [mc, this.windowWithMarginMs],
    )) as ['present'] | ['fenced'] | ['mc-mismatch', number];
    if (reply[0] === 'mc-mismatch') throw this.mismatch(reply[1]);
    if (reply[0] === 'fenced') {
      this.logger.warn(
        (this.stateSeen
          ? 'Redis lost the identify state (restarted without persistence, or its data was deleted)'
          : `Redis holds no identify state for ${count} shards at max_concurrency ${mc} (first start, or Redis lost its data)`) +
          `: no IDENTIFY for one window + margin (${this.windowWithMarginMs} ms), in case one was just sent`,
      );
    }
    this.stateSeen = true;
  }

  private refreshBudget(): Promise<number | false> {
    return this.budget.refresh(this.mc);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }
}
