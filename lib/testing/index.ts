export { FakeGateway } from './fake-gateway.js';
export type { DispatchTarget, PumpOptions, ReplayOptions, RestoredState } from './fake-gateway.js';
export { FakeGatewayProcess } from './gateway-process.js';
export type {
  FakeGatewayProcessOptions,
  ProcessUrls,
  RecordList,
  RecordSnapshot,
  RemoteConnectionMethod,
  RemoteGatewayMethod,
  RemoteGatewayOptions,
} from './gateway-process.js';
export type { NetworkOptions, TransitOptions } from './network.js';
export { FakeConnection } from './connection.js';
export type { ConnectionInit, MalformedKind } from './connection.js';
export { realClock } from './clock.js';
export type { FakeClock, FakeTimerHandle } from './clock.js';
export { jsonEncoder } from './encoding.js';
export { etfEncoder } from './etf-encoding.js';
export type { PayloadEncoder } from './encoding.js';
export { supportsZstd } from './compression.js';
export type { TransportCompression } from './compression.js';
export { GatewayRecord } from './recording.js';
export type {
  ConnectionRecord,
  HeartbeatRequestRecord,
  HttpRequestRecord,
  IdentifyOutcome,
  IdentifyRecord,
  ListenerKind,
  ReceivedPayload,
  RecordingLimits,
  ResumeOutcome,
  ResumeRecord,
  SentPayload,
  UpgradeRecord,
  Violation,
  ViolationKind,
} from './recording.js';
export { FakeSession } from './sessions.js';
export type { BufferedDispatch } from './sessions.js';
export type { SessionStartLimit } from './identify-limits.js';
export type { HttpRateLimitOptions } from './http.js';
export { DEFAULT_FAKE_TOKEN } from './settings.js';
export type { FakeGatewaySettings } from './settings.js';
export { KNOWN_INTENTS, PRIVILEGED_INTENTS, dispatchAllowed } from './intents.js';
export { DISCORD_EPOCH, shardForGuild, snowflake, snowflakeTime } from './snowflake.js';
export { TrafficGenerator, DEFAULT_TRAFFIC_MIX } from './traffic.js';
export type {
  GeneratedDispatch,
  GeneratedMember,
  TrafficEventType,
  TrafficMix,
  TrafficOptions,
  WorldGuild,
} from './traffic.js';
export type { TrafficStream } from './traffic-stream.js';
export type { GatewayState, SavedSession } from './persistence.js';
export type {
  AckForm,
  ConnectionScript,
  DelayUpgradesOptions,
  FakeGatewayOptions,
  GatewayPayload,
  ListenerFilter,
  RefuseUpgradesOptions,
} from './types.js';
export { RedisServer, freePort } from './redis-server.js';
export type { RedisServerOptions } from './redis-server.js';
