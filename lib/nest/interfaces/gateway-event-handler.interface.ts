import type { EventData, EventType, EventTypeName, GatewayEvent } from '../../gateway/index.js';

/**
 * The default signature of an `@OnGatewayEvent(T)` handler: the event's data first (a
 * dispatch's `d`, or the lifecycle data), then the whole event (shard id, type, sequence).
 * An async handler is not awaited; its rejection is caught and logged.
 */
export type GatewayEventHandler<T extends EventType = EventType> = (
  data: EventData<T>,
  event: GatewayEvent<T>,
) => unknown;

/** What `@OnGatewayEvent()` accepts: event types (member or string), or `'*'` for every event. */
export type GatewayEventSelector = EventTypeName | '*';
