/**
 * One consumer process of the stream tests: a `RedisEventConsumer` whose listener records each
 * MESSAGE_CREATE as {@link recordEvent} does (the Nest apps of the tests record the same way).
 * Configured by argv[2] (JSON {@link ConsumerProcessConfig}); reports to the test over IPC.
 */
import { Redis } from 'ioredis';
import { describeError, type GatewayLogger } from '../../../lib/gateway/index.js';
import { RedisEventConsumer } from '../../../lib/redis/index.js';
import { recordEvent } from './record-event.js';

export interface ConsumerProcessConfig {
  readonly redisPort: number;
  readonly keyPrefix: string;
  readonly token: string;
  readonly group: string;
  readonly name: string;
  readonly shardCount: number;
  readonly leaseMs: number;
  /** Each handler call waits this long (async) before recording. */
  readonly handlerDelayMs: number;
}

export type ConsumerProcessReport =
  | { type: 'log'; level: 'log' | 'warn' | 'error'; message: string }
  | { type: 'ready' }
  | { type: 'failed'; message: string };

const config = JSON.parse(process.argv[2]) as ConsumerProcessConfig;
const report = (message: ConsumerProcessReport): void => {
  process.send?.(message);
};
const logger: GatewayLogger = {
  debug: () => {},
  log: (message) => report({ type: 'log', level: 'log', message }),
  warn: (message) => report({ type: 'log', level: 'warn', message }),
  error: (message, error) =>
    report({
      type: 'log',
      level: 'error',
      message: error === undefined ? message : `${message}: ${describeError(error)}`,
    }),
};

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

source.addListener((event) => recordEvent(redis, config, event));
source.up().then(
  () => report({ type: 'ready' }),
  (error: unknown) => report({ type: 'failed', message: describeError(error) }),
);

process.on('disconnect', () => process.exit(0));
