import type { EventData, EventType, EventTypeName, GatewayEvent } from '../../gateway/index.js';
import { ANY_GATEWAY_EVENT, GATEWAY_EVENT_METADATA } from '../gateway.constants.js';
import type { GatewayEventSelector } from '../interfaces/gateway-event-handler.interface.js';

/** A gateway event of type `T` (a union over `T`, see {@link GatewayEvent}). */
type EventShape<T extends EventType> = GatewayEvent<T>;

/** Whether parameter type `P` accepts `Expected`, or is no object (a decorated shard id, ...). */
type Accepts<P, Expected> = [Expected] extends [P] ? true : [P] extends [object] ? false : true;

/**
 * `unknown` when method `M` can handle events of type `T`, else a required brand that makes
 * the decorator report the mismatch at the method. The default signature is
 * `(data, event)`; a first parameter that takes the whole event, or is no object at all, is
 * taken for a parameter decorator's and not checked further.
 */
export type GatewayHandlerCheck<M, T extends EventType> = M extends (
  ...args: infer A extends unknown[]
) => unknown
  ? A extends []
    ? unknown
    : [EventData<T>] extends [A[0]]
      ? A extends [unknown]
        ? unknown
        : Accepts<A[1], EventShape<T>> extends true
          ? unknown
          : { 'the second parameter must accept the GatewayEvent': EventShape<T> }
      : Accepts<A[0], EventShape<T>> extends true
        ? unknown
        : { 'the first parameter must accept the event data': EventData<T> }
  : unknown;

/** A method decorator that checks the method against the events `T` (see {@link GatewayHandlerCheck}). */
export type GatewayEventMethodDecorator<T extends EventType> = <
  M extends (...args: any[]) => unknown,
>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M> & GatewayHandlerCheck<M, T>,
) => void;

/**
 * Binds a provider or controller method to one or more gateway events. The handler is
 * called as `(data, event)`: `data` typed from the event (`GatewayMessageCreateDispatchData`
 * for `EventType.MessageCreate`), `event` the whole {@link GatewayEvent} with its shard id.
 * An event type is named by its `EventType` member or by its string (`'MESSAGE_CREATE'`),
 * with the same typed payload.
 *
 * - Several types per decorator, and several decorators per method, are allowed; a method
 *   is called once per event whatever the overlap.
 * - `'*'` receives every event (dispatches and lifecycle events) and turns the decode filter
 *   off (the startup log says so); see {@link OnAnyGatewayEvent}.
 * - Without an explicit `eventTypes` option, only the types bound here (and those of
 *   `ClusterService.events$()` subscribers) are decoded.
 * - Handlers with guards, interceptors, pipes, filters or parameter decorators
 *   (`@GatewayPayload()`, `@GatewayShardId()`, `@GatewayContext()`) run through Nest's
 *   enhancer pipeline; the others are called directly.
 *
 * ```ts
 * @OnGatewayEvent(EventType.MessageCreate)
 * onMessage(message: GatewayMessageCreateDispatchData, event: GatewayEvent) {}
 * ```
 */
export function OnGatewayEvent(selector: '*'): GatewayEventMethodDecorator<EventType>;
export function OnGatewayEvent<const T extends readonly [EventTypeName, ...EventTypeName[]]>(
  ...types: T
): GatewayEventMethodDecorator<Extract<EventType, T[number]>>;
export function OnGatewayEvent(
  ...selectors: readonly GatewayEventSelector[]
): GatewayEventMethodDecorator<EventType> {
  return (_target, _propertyKey, descriptor) => {
    const method = descriptor.value;
    if (typeof method !== 'function') {
      throw new TypeError('@OnGatewayEvent() decorates methods only');
    }
    const previous: readonly GatewayEventSelector[] =
      Reflect.getMetadata(GATEWAY_EVENT_METADATA, method) ?? [];
    Reflect.defineMetadata(GATEWAY_EVENT_METADATA, [...previous, ...selectors], method);
  };
}

/** Same as `@OnGatewayEvent('*')`: every event, with the decode filter off. */
export function OnAnyGatewayEvent(): GatewayEventMethodDecorator<EventType> {
  return OnGatewayEvent(ANY_GATEWAY_EVENT);
}
