export { DEFAULTS } from './defaults.js';
export {
  normalizeClusterOptions,
  normalizeShardOptions,
  shardIdsOf,
  shardOptionsFor,
} from './normalize.js';
export type {
  ClusterConfig,
  ClusterOptions,
  CommonConfig,
  CommonOptions,
  Compression,
  Encoding,
  IdentifyProperties,
  InvalidSessionDelay,
  Limits,
  PresenceInput,
  ReconnectOptions,
  ShardBuckets,
  ShardConfig,
  ShardOptions,
  ShardRange,
  ShardScheme,
  Timeouts,
} from './options.js';
export { Token } from './token.js';
