// The Redis entry point (`nestjs-discord-gateway/redis`): the parts that let several processes
// share one bot. Only this entry point needs the optional peer `ioredis`.
export {
  DEFAULT_IDENTIFY_MARGIN_MS,
  RedisIdentifyQueue,
  type RedisIdentifyQueueOptions,
} from './identify-queue.js';
export type { RedisIdentifyBudget } from './shared-budget.js';
export { botIdFromToken, DEFAULT_KEY_PREFIX, RedisKeys, type BotIdentity } from './keys.js';
export {
  DEFAULT_SESSION_SAVE_INTERVAL_MS,
  DEFAULT_SESSION_TTL_MS,
  RedisSessionStore,
  type RedisSessionStoreOptions,
} from './session-store.js';
export {
  DEFAULT_PUBLISH_BUFFER,
  DEFAULT_REPORT_INTERVAL_MS,
  DEFAULT_STREAM_MAX_LEN,
  RedisEventPublisher,
  type GatewayProcessReport,
  type PublisherStats,
  type RedisEventPublisherOptions,
} from './event-publisher.js';
export { RemoteCommandError, ShardNotOwnedError } from './command-protocol.js';
export {
  RedisEventConsumer,
  type ConsumerListener,
  type RedisEventConsumerOptions,
} from './event-consumer.js';
