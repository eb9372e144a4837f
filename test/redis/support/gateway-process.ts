/**
 * One gateway process of the multi-process tests: a Cluster with the Redis identify queue and
 * session store, as a bot's process on its own machine would run it. Configured by argv[2]
 * (JSON {@link GatewayProcessConfig}); reports to the test over IPC ({@link GatewayProcessReport}).
 *
 * Every dispatch it delivers is appended to `deliveredFile` at once, synchronously, as a
 * handler's side effect would be: what the process handled before a SIGKILL stays on record.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Redis } from 'ioredis';
import { ipcLogger } from './child-ipc.js';
import {
  Cluster,
  describeError,
  EventType,
  EventTypeFlags,
  type ShardBuckets,
  type ShardRange,
} from '../../../lib/gateway/index.js';
import {
  RedisEventPublisher,
  RedisIdentifyQueue,
  RedisSessionStore,
} from '../../../lib/redis/index.js';

export interface GatewayProcessConfig {
  readonly gatewayUrl: string;
  readonly apiUrl: string;
  readonly token: string;
  readonly redisPort: number;
  readonly keyPrefix: string;
  readonly shards: ShardRange | ShardBuckets;
  readonly maxConcurrency: number;
  readonly windowMs: number;
  readonly identifyMarginMs: number;
  readonly budgetFloor?: number;
  readonly saveIntervalMs?: number;
  /** Appended with `shardId<TAB>sequence<TAB>type<TAB>content` per delivered dispatch. */
  readonly deliveredFile?: string;
  /** Publishes MESSAGE_CREATE to the Redis event streams under this process name. */
  readonly publishAs?: string;
}

export type GatewayProcessReport =
  | { type: 'log'; level: 'log' | 'warn' | 'error'; message: string }
  | { type: 'event'; shardId: number; event: string }
  | { type: 'ready' }
  | { type: 'failed'; code: string | null; name: string; message: string }
  | { type: 'info'; shards: { id: number; state: string; sessionId: string | null }[] }
  | { type: 'stopped' };

export type GatewayProcessCommand = { type: 'info' } | { type: 'downResumable' };

const config = JSON.parse(process.argv[2]) as GatewayProcessConfig;
const report = (message: GatewayProcessReport): void => {
  process.send?.(message);
};

const logger = ipcLogger();

const redis = new Redis(config.redisPort, '127.0.0.1', { retryStrategy: () => 100 });
// ioredis reports each failed reconnection; the queue and the store log what it means for them.
redis.on('error', () => {});

const queue = new RedisIdentifyQueue({
  redis,
  token: config.token,
  keyPrefix: config.keyPrefix,
  apiUrl: config.apiUrl,
  maxConcurrency: config.maxConcurrency,
  windowMs: config.windowMs,
  identifyMarginMs: config.identifyMarginMs,
  budgetFloor: config.budgetFloor,
  logger,
});
const sessionStore = new RedisSessionStore({
  redis,
  token: config.token,
  keyPrefix: config.keyPrefix,
  saveIntervalMs: config.saveIntervalMs,
  logger,
});
const eventSink =
  config.publishAs === undefined
    ? undefined
    : new RedisEventPublisher({
        redis,
        token: config.token,
        keyPrefix: config.keyPrefix,
        eventTypes: [EventType.MessageCreate],
        processName: config.publishAs,
        reportIntervalMs: 500,
        logger,
      });
const cluster = new Cluster(
  {
    token: config.token,
    intents: ['Guilds', 'GuildMessages', 'MessageContent'],
    gatewayUrl: config.gatewayUrl,
    apiUrl: config.apiUrl,
    shards: config.shards,
    eventTypes: EventTypeFlags.ALL,
  },
  { queue, sessionStore, logger, eventSink },
);

const delivered = config.deliveredFile === undefined ? null : openSync(config.deliveredFile, 'a');
cluster.addListener((event) => {
  if (event.sequence !== null && delivered !== null) {
    const content = (event.data as { content?: unknown } | null)?.content;
    writeSync(
      delivered,
      `${event.shardId}\t${event.sequence}\t${event.type}\t${typeof content === 'string' ? content : ''}\n`,
    );
  }
  if (event.type.startsWith('SHARD_')) {
    report({ type: 'event', shardId: event.shardId, event: event.type });
  }
});

cluster.up().then(
  () => report({ type: 'ready' }),
  (error: unknown) =>
    report({
      type: 'failed',
      code: (error as { code?: string }).code ?? null,
      name: (error as Error).constructor?.name ?? 'Error',
      message: describeError(error),
    }),
);

process.on('message', (command: GatewayProcessCommand) => {
  if (command.type === 'info') {
    report({
      type: 'info',
      shards: cluster.info().map(({ id, state, sessionId }) => ({ id, state, sessionId })),
    });
    return;
  }
  void cluster.downResumable().then(async () => {
    await queue.close();
    redis.disconnect();
    if (delivered !== null) closeSync(delivered);
    report({ type: 'stopped' });
    process.disconnect();
  });
});

// The test is gone: never outlive it.
process.on('disconnect', () => process.exit(0));
