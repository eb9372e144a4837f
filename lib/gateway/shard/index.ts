export { Shard, type ShardDeps, type ShardInfo, type ShardStats } from './shard.js';
export { ShardState } from './shard-state.js';
export { composeObservers, type ShardObserver } from './shard-observer.js';
export {
  CLOSE_CODE_POLICY,
  closeCodePolicy,
  type CloseAction,
  type CloseCodePolicy,
} from './close-codes.js';
export type { LatencySnapshot } from './latency.js';
export { DISCONNECT_CAUSES, type DisconnectCause } from './disconnect-cause.js';
export { DEFAULT_MAX_MISSED_ACKS, type LivenessCause } from './heartbeat.js';
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
  COMMAND_MARGIN_MS,
  COMMAND_WINDOW_MS,
  CommandRateLimiter,
  PRESENCE_MARGIN_MS,
  PresenceLimiter,
  heartbeatReserveFor,
  type CommandRateLimiterOptions,
  type PresenceLimiterOptions,
} from './rate-limiter.js';
