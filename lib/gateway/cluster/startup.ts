import type { Clock } from '../clock/clock.js';
import { shardIdsOf, type ClusterConfig } from '../config/index.js';
import { ConfigError, IdentifyBudgetError } from '../errors/errors.js';
import type { GatewayLogger } from '../logger.js';
import type { IdentifyQueue } from '../queue/identify-queue.js';
import { InMemoryIdentifyQueue, type IdentifyQueueInsight } from '../queue/in-memory-queue.js';
import { fetchGatewayBot, type GatewayBotInfo } from '../rest/gateway-bot.js';
import type { Session } from '../session/session.js';

/*
 * The steps of `Cluster.up()` before any shard exists: what GET /gateway/bot decides, the
 * identify queue and its budget, and the gateway URL.
 */

/**
 * Whether a start asks GET /gateway/bot: for the `'recommended'` scheme (the shard count), and
 * for the default queue, which needs max_concurrency and the daily budget (Discord docs: Session
 * Start Limit Object). An injected queue owns pacing and the budget.
 */
export function needsGatewayBot(
  config: ClusterConfig,
  injectedQueue: IdentifyQueue | undefined,
): boolean {
  return config.shards.kind === 'recommended' || injectedQueue === undefined;
}

/**
 * GET /gateway/bot with the cluster's token, logging what it recommends.
 * @throws (rejects) HttpError; AbortedError once `signal` aborts.
 */
export async function fetchGatewayBotFor(
  config: ClusterConfig,
  signal: AbortSignal,
  clock: Clock,
  logger: GatewayLogger,
): Promise<GatewayBotInfo> {
  const gatewayBot = await fetchGatewayBot({
    apiUrl: config.apiUrl,
    token: config.token,
    signal,
    clock,
    logger,
  });
  const limit = gatewayBot.sessionStartLimit;
  logger.log(
    `GET /gateway/bot: ${gatewayBot.shards} shards recommended, max_concurrency ${limit.maxConcurrency}, ` +
      `${limit.remaining}/${limit.total} session starts left`,
  );
  return gatewayBot;
}

/**
 * The shard count of the `'recommended'` scheme: GET /gateway/bot's, within
 * `maxRecommendedShards`. Past it nothing is created: 100,000 shards in one process took 4 GB
 * and blocked the event loop for over a minute.
 *
 * @throws ConfigError when the recommendation is over `maxRecommendedShards`
 */
export function recommendedShardCount(config: ClusterConfig, gatewayBot: GatewayBotInfo): number {
  const max = config.maxRecommendedShards;
  if (gatewayBot.shards <= max) return gatewayBot.shards;
  throw new ConfigError([
    {
      path: 'maxRecommendedShards',
      rule:
        `GET /gateway/bot recommends ${gatewayBot.shards} shards, more than ${max} in one process; ` +
        'raise maxRecommendedShards, or split the bot across processes with ' +
        'shards: { from, to, shardCount } or { buckets, shardCount, maxConcurrency }',
    },
  ]);
}

/**
 * The default identify queue of a start: max_concurrency from the config, else from
 * GET /gateway/bot, else 1; the daily budget of GET /gateway/bot when it was asked.
 *
 * @param onBudgetWait called when the queue starts waiting for the budget reset
 */
export function createIdentifyQueue(
  config: ClusterConfig,
  gatewayBot: GatewayBotInfo | null,
  clock: Clock,
  logger: GatewayLogger,
  onBudgetWait: () => void,
): InMemoryIdentifyQueue {
  const limit = gatewayBot?.sessionStartLimit;
  return new InMemoryIdentifyQueue({
    maxConcurrency: config.maxConcurrency ?? limit?.maxConcurrency ?? 1,
    windowMs: config.identifyWindowMs,
    identifyMarginMs: config.identifyMarginMs,
    clock,
    logger,
    onBudgetExhausted: config.onBudgetExhausted,
    budget:
      limit === undefined
        ? undefined
        : { total: limit.total, remaining: limit.remaining, resetAfterMs: limit.resetAfter },
    onBudgetWait,
  });
}

/** Whether the queue can tell the budget and its ETA (the default queue can; an injected one may). */
export function isInsight(queue: IdentifyQueue): queue is IdentifyQueue & IdentifyQueueInsight {
  const candidate = queue as Partial<IdentifyQueueInsight>;
  return typeof candidate.checkBudget === 'function' && typeof candidate.eta === 'function';
}

/**
 * Refuses before any IDENTIFY when the `needed` shards that must identify exceed the budget
 * (Discord docs: Session Start Limit Object): asks the queue when it can tell (`insight`), else compares with the remaining
 * starts of GET /gateway/bot. Under the `'wait'` policy a shortfall is only logged.
 *
 * @throws (rejects) IdentifyBudgetError under the `'fail'` policy
 */
export async function checkIdentifyBudget(
  needed: number,
  insight: IdentifyQueueInsight | null,
  gatewayBot: GatewayBotInfo | null,
  config: ClusterConfig,
  clock: Clock,
  logger: GatewayLogger,
): Promise<void> {
  if (insight !== null) {
    const resetAt = await insight.checkBudget(needed);
    if (resetAt !== null) {
      logger.warn(
        `Identify budget too small for ${needed} shard(s); some wait for the reset at ${new Date(resetAt).toISOString()}`,
      );
    }
    return;
  }
  const limit = gatewayBot?.sessionStartLimit;
  if (limit !== undefined && needed > limit.remaining && config.onBudgetExhausted === 'fail') {
    throw new IdentifyBudgetError(needed, limit.remaining, clock.now() + limit.resetAfter);
  }
}

/**
 * The URL the shards connect to: the one GET /gateway/bot returned (without trailing slashes),
 * unless the options named one or GET /gateway/bot was not asked.
 */
export function gatewayUrlFor(
  config: ClusterConfig,
  explicitGatewayUrl: boolean,
  gatewayBot: GatewayBotInfo | null,
): string {
  return !explicitGatewayUrl && gatewayBot !== null
    ? gatewayBot.url.replace(/\/+$/, '')
    : config.gatewayUrl;
}

/** `queue`, calling `onChange` when a shard starts waiting for a grant and when it is granted. */
export function reportingGrants(queue: IdentifyQueue, onChange: () => void): IdentifyQueue {
  return {
    enqueue: (shardId, signal) => {
      const granted = queue.enqueue(shardId, signal);
      onChange();
      return granted.then(() => onChange());
    },
  };
}

/** What a start decided before creating its shards (see {@link planStart}). */
export interface StartPlan {
  readonly shardCount: number;
  /** The shards this process runs, ascending. */
  readonly ids: number[];
  readonly queue: IdentifyQueue;
  /** `queue` when it can tell the budget and its ETA, else `null`. */
  readonly insight: IdentifyQueueInsight | null;
  readonly gatewayUrl: string;
  /** The stored session of each shard of `ids` (same order), or `null`: that shard identifies. */
  readonly sessions: (Session | null)[];
  /** How many shards identify. */
  readonly needed: number;
}

/**
 * The steps of a start before any shard exists, in order: GET /gateway/bot when needed, the
 * shard count and ids, the identify queue (`injectedQueue`, or the default one), the gateway
 * URL, the stored sessions, and the budget check for the shards that must identify.
 * `checkNotStopped` runs after every wait, so a stop during the start ends it there.
 *
 * @throws (rejects) what `checkNotStopped` throws, HttpError from GET /gateway/bot, ConfigError
 *   past `maxRecommendedShards`, IdentifyBudgetError under the `'fail'` policy.
 */
export async function planStart(
  config: ClusterConfig,
  env: {
    readonly explicitGatewayUrl: boolean;
    readonly injectedQueue: IdentifyQueue | undefined;
    readonly signal: AbortSignal;
    readonly clock: Clock;
    readonly logger: GatewayLogger;
    readonly loadSession: (
      id: number,
      shardCount: number,
      gatewayUrl: string,
    ) => Promise<Session | null>;
    readonly onQueueChange: () => void;
    readonly checkNotStopped: () => void;
  },
): Promise<StartPlan> {
  const { clock, logger, checkNotStopped } = env;
  const gatewayBot = needsGatewayBot(config, env.injectedQueue)
    ? await fetchGatewayBotFor(config, env.signal, clock, logger)
    : null;
  checkNotStopped();
  const scheme = config.shards;
  const shardCount =
    scheme.kind === 'recommended'
      ? recommendedShardCount(config, gatewayBot as GatewayBotInfo)
      : scheme.shardCount;
  const ids = shardIdsOf(scheme, shardCount);
  const queue: IdentifyQueue =
    env.injectedQueue ?? createIdentifyQueue(config, gatewayBot, clock, logger, env.onQueueChange);
  const insight = isInsight(queue) ? queue : null;
  await queue.prepare?.(shardCount);
  checkNotStopped();

  const gatewayUrl = gatewayUrlFor(config, env.explicitGatewayUrl, gatewayBot);
  const sessions = await Promise.all(ids.map((id) => env.loadSession(id, shardCount, gatewayUrl)));
  checkNotStopped();
  const needed = sessions.filter((session) => session === null).length;
  await checkIdentifyBudget(needed, insight, gatewayBot, config, clock, logger);
  checkNotStopped();
  return { shardCount, ids, queue, insight, gatewayUrl, sessions, needed };
}

/** The stored sessions of a {@link StartPlan} by shard id, without the shards that identify. */
export function sessionsById(
  ids: readonly number[],
  sessions: readonly (Session | null)[],
): Map<number, Session> {
  const byId = new Map<number, Session>();
  ids.forEach((id, index) => {
    const session = sessions[index];
    if (session !== null && session !== undefined) byId.set(id, session);
  });
  return byId;
}
