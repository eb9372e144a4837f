import type { Redis } from 'ioredis';
import type { Clock } from '../gateway/clock/clock.js';
import type { Token } from '../gateway/config/token.js';
import type { GatewayLogger } from '../gateway/logger.js';
import { fetchGatewayBot } from '../gateway/rest/gateway-bot.js';
import type { RedisKeys } from './keys.js';
import { BUDGET_SCRIPT, READ_BUDGET_SCRIPT, RELEASE_SCRIPT } from './script.js';

/** The lock of the budget read: longer than GET /gateway/bot with its retries takes normally. */
const REFRESH_LOCK_MS = 30_000;
/** Shortest budget lifetime: a `reset_after` of 0 must not make every grant read it again. */
const MIN_BUDGET_TTL_MS = 1_000;

/** The daily identify budget as the bot's processes share it in Redis. Times in ms. */
export interface RedisIdentifyBudget {
  readonly total: number;
  readonly remaining: number;
  /** Clock reading (ms) of the reset, from Redis's own count of the time left. */
  readonly resetAt: number;
  /** Grants made from it since it was read from GET /gateway/bot. */
  readonly granted: number;
  /** max_concurrency as GET /gateway/bot reported it with this budget. */
  readonly maxConcurrency: number;
}

/** What {@link SharedIdentifyBudget} works with: the identify queue's own. */
export interface SharedIdentifyBudgetDeps {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly token: Token;
  readonly apiUrl: string;
  readonly clock: Clock;
  readonly logger: GatewayLogger;
  /** This process's name, held in the read lock. */
  readonly member: string;
  /** Aborts a GET /gateway/bot in flight (the queue closed). */
  readonly signal: AbortSignal;
}

/**
 * The bot's `session_start_limit` kept in Redis until its reset: read from GET /gateway/bot by
 * one process at a time (a lock in Redis), and by one call at a time within a process. The
 * grants themselves decrement it in the identify queue's grant script. A budget that vanishes
 * before its reset (Redis restarted without persistence) is read again and logged as a warning.
 */
export class SharedIdentifyBudget {
  private refreshing: Promise<number | false> | null = null;
  /** Clock reading of the reset of the last budget seen; `null` before the first. */
  private knownResetAt: number | null = null;

  constructor(private readonly deps: SharedIdentifyBudgetDeps) {}

  /** The budget Redis holds now, or `null` when it holds none (not read yet, or past its reset). */
  async read(): Promise<RedisIdentifyBudget | null> {
    const { redis, keys, clock } = this.deps;
    const reply = (await READ_BUDGET_SCRIPT.run(redis, [keys.budget], [])) as number[];
    if (reply.length < 5) return null;
    const [total, remaining, resetInMs, granted, maxConcurrency] = reply as [
      number,
      number,
      number,
      number,
      number,
    ];
    const resetAt = clock.now() + resetInMs;
    this.knownResetAt = resetAt;
    return { total, remaining, resetAt, granted, maxConcurrency };
  }

  /**
   * Reads GET /gateway/bot into Redis, unless another process is at it (resolves `false`: wait
   * and look again). Resolves the max_concurrency Discord reported when this process read it,
   * and warns when it differs from `pacedMaxConcurrency`, the one the processes pace with.
   *
   * @throws (rejects) what GET /gateway/bot or Redis throws (HttpError, a connection error).
   */
  refresh(pacedMaxConcurrency: number | undefined): Promise<number | false> {
    this.refreshing ??= this.readGatewayBot(pacedMaxConcurrency).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async readGatewayBot(pacedMaxConcurrency: number | undefined): Promise<number | false> {
    const locked = await this.deps.redis.set(
      this.deps.keys.budgetRefresh,
      this.deps.member,
      'PX',
      REFRESH_LOCK_MS,
      'NX',
    );
    if (locked !== 'OK') return false;
    try {
      const info = await fetchGatewayBot({
        apiUrl: this.deps.apiUrl,
        token: this.deps.token,
        signal: this.deps.signal,
        clock: this.deps.clock,
        logger: this.deps.logger,
      });
      const limit = info.sessionStartLimit;
      const stored = await BUDGET_SCRIPT.run(
        this.deps.redis,
        [this.deps.keys.budget],
        [
          limit.total,
          limit.remaining,
          Math.max(MIN_BUDGET_TTL_MS, limit.resetAfter),
          limit.maxConcurrency,
        ],
      );
      if (stored === 1) {
        const lost =
          this.knownResetAt !== null && this.deps.clock.now() < this.knownResetAt - 1_000;
        const line =
          `identify budget read from GET /gateway/bot: ${limit.remaining} of ${limit.total} left, ` +
          `reset in ${Math.round(limit.resetAfter / 60_000)} min, max_concurrency ${limit.maxConcurrency}`;
        if (lost) {
          this.deps.logger.warn(
            `Redis lost the identify budget before its reset (restarted without persistence?); ${line}`,
          );
        } else {
          this.deps.logger.log(`Identify queue: ${line}`);
        }
        this.knownResetAt = this.deps.clock.now() + limit.resetAfter;
      }
      if (pacedMaxConcurrency !== undefined && limit.maxConcurrency !== pacedMaxConcurrency) {
        this.deps.logger.warn(
          `GET /gateway/bot reports max_concurrency ${limit.maxConcurrency}, but the bot's processes pace with ${pacedMaxConcurrency}`,
        );
      }
      return limit.maxConcurrency;
    } finally {
      await RELEASE_SCRIPT.run(
        this.deps.redis,
        [this.deps.keys.budgetRefresh],
        [this.deps.member],
      ).catch(() => undefined);
    }
  }
}
