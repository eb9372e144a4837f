import { GatewayDispatchEvents } from 'discord-api-types/v10';

/**
 * Shard lifecycle events, emitted by the library itself. Their names carry a `SHARD_` or
 * `CLUSTER_` prefix so they never collide with a Discord dispatch name.
 */
export const LifecycleEventType = {
  /** The WebSocket opened. Data: {@link ShardConnectedData}. */
  ShardConnected: 'SHARD_CONNECTED',
  /** IDENTIFY succeeded: READY arrived and the shard is Active. Data: {@link ShardReadyData}. */
  ShardReady: 'SHARD_READY',
  /** RESUME succeeded: RESUMED arrived and the shard is Active. Data: {@link ShardResumedData}. */
  ShardResumed: 'SHARD_RESUMED',
  /** The connection ended (any cause). Data: {@link ShardDisconnectedData}. */
  ShardDisconnected: 'SHARD_DISCONNECTED',
  /** A reconnect is scheduled. Data: {@link ShardReconnectingData}. */
  ShardReconnecting: 'SHARD_RECONNECTING',
  /** Op 9 arrived. Data: {@link ShardInvalidSessionData}. */
  ShardInvalidSession: 'SHARD_INVALID_SESSION',
  /** The shard stopped for good on a fatal close code (4004, 4010-4014). Data: {@link ShardFatalData}. */
  ShardFatal: 'SHARD_FATAL',
  /** Every guild READY listed as unavailable arrived, or the wait timed out. Data: {@link ShardGuildsReadyData}. */
  ShardGuildsReady: 'SHARD_GUILDS_READY',
  /** The shard's state changed. Data: {@link ShardStateChangedData}. */
  ShardStateChanged: 'SHARD_STATE_CHANGED',
  /** A frame could not be decoded or broke the protocol; the shard survived it. Data: {@link ShardErrorData}. */
  ShardError: 'SHARD_ERROR',
  /** A frame with an unknown opcode or an unknown dispatch name (GW-ENV-3). Data: {@link UnknownEventData}. */
  UnknownEvent: 'UNKNOWN_EVENT',
  /** Every shard of a cluster is Active. Data: {@link ClusterReadyData}. */
  ClusterReady: 'CLUSTER_READY',
  /** Every shard of a cluster emitted SHARD_GUILDS_READY. Data: {@link ClusterGuildsReadyData}. */
  ClusterGuildsReady: 'CLUSTER_GUILDS_READY',
} as const;

/**
 * Every event a listener or `@OnGatewayEvent` handler can receive: each Discord dispatch
 * (`EventType.MessageCreate === 'MESSAGE_CREATE'`, keyed as discord-api-types'
 * `GatewayDispatchEvents`) plus the library's lifecycle events.
 */
export const EventType = { ...GatewayDispatchEvents, ...LifecycleEventType } as const;
/** The string value of one {@link EventType} member. */
export type EventType = (typeof EventType)[keyof typeof EventType];
/**
 * An event type written either way: the {@link EventType} member or its string
 * (`EventType.MessageCreate` or `'MESSAGE_CREATE'`). `Extract<EventType, N>` turns a name
 * back into the member.
 */
export type EventTypeName = `${EventType}`;
/** A Discord dispatch name (`t`). */
export type DispatchEventType = `${GatewayDispatchEvents}`;
/** A library lifecycle event name. */
export type LifecycleEventType = (typeof LifecycleEventType)[keyof typeof LifecycleEventType];

/** Every EventType value, in a fixed order: index `i` is bit `i` of {@link EventTypeFlags}. */
export const ALL_EVENT_TYPES: readonly EventType[] = Object.freeze([
  ...Object.values(GatewayDispatchEvents).sort(),
  ...Object.values(LifecycleEventType),
] as EventType[]);
