export { Shard, type ShardDeps, type ShardInfo, type ShardStats } from './shard.js';
export { ShardState } from './shard-state.js';
export {
  CLOSE_CODE_POLICY,
  closeCodePolicy,
  type CloseAction,
  type CloseCodePolicy,
} from './close-codes.js';
export type { LatencySnapshot } from './latency.js';
export {
  MAX_NONCE_BYTES,
  MAX_PAYLOAD_BYTES,
  MAX_USER_IDS,
  buildCommand,
  buildRequestChannelInfo,
  buildRequestGuildMembers,
  buildRequestSoundboardSounds,
  buildUpdatePresence,
  buildUpdateVoiceState,
  serializePayload,
  type GatewayCommand,
} from './commands.js';
export {
  COMMANDS_PER_WINDOW,
  COMMAND_WINDOW_MS,
  CommandRateLimiter,
  PresenceLimiter,
  heartbeatReserveFor,
  type CommandRateLimiterOptions,
} from './rate-limiter.js';
