import type { DisconnectCause } from '../shard/disconnect-cause.js';
import type { GatewayDispatchPayload } from 'discord-api-types/v10';
import type { DispatchEventType, EventType, LifecycleEventType } from './event-type.js';
import type { GatewayError } from '../errors/errors.js';
import type { ShardState } from '../shard/shard-state.js';

/** `d` of the Discord dispatch named `T`, as typed by discord-api-types. */
export type DispatchData<T extends DispatchEventType> = Extract<
  GatewayDispatchPayload,
  { t: T }
>['d'];

/** SHARD_CONNECTED: the socket opened on `url` (query string included). */
export interface ShardConnectedData {
  readonly url: string;
  /** Whether this connection will RESUME (true) or IDENTIFY (false). */
  readonly resuming: boolean;
}
/** SHARD_READY: a new session started. */
export interface ShardReadyData {
  readonly sessionId: string;
  /** Guilds READY listed (all unavailable at first, GW-RD-1). */
  readonly guildCount: number;
}
/** SHARD_RESUMED: the session resumed; `replayed` dispatches arrived between RESUME and RESUMED. */
export interface ShardResumedData {
  readonly sessionId: string;
  readonly replayed: number;
}
/** SHARD_DISCONNECTED: the connection ended. `code` is null when there was no close frame (GW-CL-3). */
export interface ShardDisconnectedData {
  readonly code: number | null;
  readonly reason: string;
  /** What the shard does next. */
  readonly next: 'resume' | 'identify' | 'stop';
  /** Which rule ended the connection (one of `DISCONNECT_CAUSES`). */
  readonly cause: DisconnectCause;
}
/** SHARD_RECONNECTING: the next connection attempt starts after `delayMs` ms. */
export interface ShardReconnectingData {
  readonly attempt: number;
  readonly delayMs: number;
  readonly resume: boolean;
}
/** SHARD_INVALID_SESSION: op 9 arrived; `resumable` is its `d` (GW-IS-2, GW-IS-3). */
export interface ShardInvalidSessionData {
  readonly resumable: boolean;
}
/** SHARD_FATAL: the shard stopped for good. */
export interface ShardFatalData {
  readonly code: number;
  readonly error: GatewayError;
}
/** SHARD_GUILDS_READY: guild readiness (GW-GT-11). `unavailable` lists ids still missing on timeout. */
export interface ShardGuildsReadyData {
  readonly guildCount: number;
  readonly unavailable: readonly string[];
  readonly timedOut: boolean;
}
/** SHARD_STATE_CHANGED. */
export interface ShardStateChangedData {
  readonly previous: ShardState;
  readonly state: ShardState;
}
/** SHARD_ERROR: a bad frame or protocol breach the shard survived. */
export interface ShardErrorData {
  readonly error: GatewayError;
}
/** UNKNOWN_EVENT: a frame with an opcode or dispatch name the library does not know (GW-ENV-3). */
export interface UnknownEventData {
  readonly op: number;
  readonly t: string | null;
  readonly s: number | null;
  readonly d: unknown;
}
/** CLUSTER_READY: every shard of the cluster is Active. */
export interface ClusterReadyData {
  readonly shardIds: readonly number[];
}
/** CLUSTER_GUILDS_READY: every shard emitted SHARD_GUILDS_READY. */
export interface ClusterGuildsReadyData {
  readonly guildCount: number;
  readonly unavailable: readonly string[];
}

/** Data of each lifecycle event. */
export interface LifecycleEventDataMap {
  SHARD_CONNECTED: ShardConnectedData;
  SHARD_READY: ShardReadyData;
  SHARD_RESUMED: ShardResumedData;
  SHARD_DISCONNECTED: ShardDisconnectedData;
  SHARD_RECONNECTING: ShardReconnectingData;
  SHARD_INVALID_SESSION: ShardInvalidSessionData;
  SHARD_FATAL: ShardFatalData;
  SHARD_GUILDS_READY: ShardGuildsReadyData;
  SHARD_STATE_CHANGED: ShardStateChangedData;
  SHARD_ERROR: ShardErrorData;
  UNKNOWN_EVENT: UnknownEventData;
  CLUSTER_READY: ClusterReadyData;
  CLUSTER_GUILDS_READY: ClusterGuildsReadyData;
}

/** `data` of an event of type `T`: the dispatch's `d`, or the lifecycle data. */
export type EventData<T extends EventType> = T extends DispatchEventType
  ? DispatchData<T>
  : T extends LifecycleEventType
    ? LifecycleEventDataMap[T]
    : never;

/**
 * One event as listeners and handlers receive it.
 *
 * - `shardId`: the shard it arrived on (cluster-level events use the lowest shard id).
 * - `type`: the dispatch name (`t`) or lifecycle name.
 * - `data`: the dispatch's `d`, decoded, or the lifecycle data.
 * - `sequence`: the dispatch's `s`; `null` for lifecycle events.
 * - `entryId`: consumer mode only, the Redis stream entry id (`<generation>-<s>`).
 *
 * Distributive over `T`: `GatewayEvent` is the union of every event shape, so checking
 * `event.type` narrows `event.data`, and `GatewayEvent<'MESSAGE_CREATE'>` is assignable to
 * `GatewayEvent`.
 */
export type GatewayEvent<T extends EventType = EventType> = T extends EventType
  ? {
      readonly shardId: number;
      readonly type: T;
      readonly data: EventData<T>;
      readonly sequence: number | null;
      /**
       * Set in consumer mode (Redis event streams): the entry id `<generation>-<s>`, the same for
       * every delivery of one dispatch, to drop duplicates with.
       */
      readonly entryId?: string;
    }
  : never;

/** A listener of shard or cluster events. Called synchronously, in arrival order per shard. */
export type GatewayEventListener = (event: GatewayEvent) => void;
