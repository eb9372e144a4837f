/**
 * One consumer process of the stream tests: a `RedisEventConsumer` whose listener records each
 * MESSAGE_CREATE as {@link recordEvent} does (the Nest apps of the tests record the same way).
 * Configured by argv[2] (JSON {@link ConsumerProcessConfig}); reports to the test over IPC.
 */
import { describeError } from '../../../lib/gateway/index.js';
import { consumerSource, ipcLogger } from './child-ipc.js';
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
const logger = ipcLogger();

const { redis, source } = consumerSource(config, logger);

source.addListener((event) => recordEvent(redis, config, event));
source.up().then(
  () => report({ type: 'ready' }),
  (error: unknown) => report({ type: 'failed', message: describeError(error) }),
);

process.on('disconnect', () => process.exit(0));
