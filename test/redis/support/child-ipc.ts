/**
 * What the child processes of the Redis tests share: a logger that reports each line to the
 * test over IPC, and a consumer's Redis client and `RedisEventConsumer` built from its config.
 */
import { Redis } from 'ioredis';
import { describeError, type GatewayLogger } from '../../../lib/gateway/index.js';
import { RedisEventConsumer } from '../../../lib/redis/index.js';
import type { ConsumerProcessConfig } from './consumer-process.js';

/** A log line as the children report it. */
export interface LogReport {
  readonly type: 'log';
  readonly level: 'log' | 'warn' | 'error';
  readonly message: string;
}

/** A logger whose lines go to the parent test (debug lines are dropped). */
export function ipcLogger(): GatewayLogger {
  const report = (level: LogReport['level'], message: string): void => {
    process.send?.({ type: 'log', level, message } satisfies LogReport);
  };
  return {
    debug: () => {},
    log: (message) => report('log', message),
    warn: (message) => report('warn', message),
    error: (message, error) =>
      report('error', error === undefined ? message : `${message}: ${describeError(error)}`),
  };
}

/** The consumer's own Redis client (waits out outages) and its `RedisEventConsumer`. */
export function consumerSource(
  config: ConsumerProcessConfig,
  logger: GatewayLogger,
): { redis: Redis; source: RedisEventConsumer } {
  const redis = new Redis(config.redisPort, '127.0.0.1', {
    retryStrategy: () => 100,
    maxRetriesPerRequest: null,
  });
  redis.on('error', () => {});
  const source = new RedisEventConsumer({
    redis,
    token: config.token,
    keyPrefix: config.keyPrefix,
    group: config.group,
    consumerName: config.name,
    shardCount: config.shardCount,
    leaseMs: config.leaseMs,
    logger,
  });
  return { redis, source };
}
