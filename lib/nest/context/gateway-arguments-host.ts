import type { ArgumentsHost } from '@nestjs/common';
import type { EventData, EventType, EventTypeName, GatewayEvent } from '../../gateway/index.js';
import { GATEWAY_CONTEXT_TYPE } from '../gateway.constants.js';

/**
 * Reads a gateway handler's arguments in exception filters (and anywhere an `ArgumentsHost`
 * is at hand): `GatewayArgumentsHost.create(host).getEvent()`.
 */
export class GatewayArgumentsHost {
  protected constructor(protected readonly host: ArgumentsHost) {}

  /** Wraps `host`; check `GatewayArgumentsHost.isGateway(host)` first when the filter is shared. */
  static create(host: ArgumentsHost): GatewayArgumentsHost {
    return new GatewayArgumentsHost(host);
  }

  /** Whether `host` belongs to a gateway event handler (`host.getType() === 'discord-gateway'`). */
  static isGateway(host: ArgumentsHost): boolean {
    return host.getType<string>() === GATEWAY_CONTEXT_TYPE;
  }

  /**
   * The whole event. `T` names the type you checked for (`getEvent<'MESSAGE_CREATE'>()`); it
   * is not checked at run time.
   */
  getEvent<T extends EventTypeName = EventType>(): GatewayEvent<Extract<EventType, T>> {
    return this.host.getArgByIndex<GatewayEvent<Extract<EventType, T>>>(1);
  }

  /**
   * The event's data: a dispatch's `d`, or the lifecycle data, typed for `T` as with
   * {@link getEvent}.
   */
  getPayload<T extends EventTypeName = EventType>(): EventData<Extract<EventType, T>> {
    // GatewayEvent distributes over its type, so its `data` is this union, which TypeScript
    // does not see for a generic T.
    return this.getEvent<T>().data as EventData<Extract<EventType, T>>;
  }

  /** The id of the shard the event arrived on. */
  getShardId(): number {
    return this.getEvent().shardId;
  }

  /** The event type, e.g. `'MESSAGE_CREATE'`. */
  getEventType(): EventType {
    return this.getEvent().type;
  }
}
