import type { GatewayError } from '../errors/errors.js';
import { EventType } from '../events/event-type.js';
import type { GatewayEvent, GatewayEventListener } from '../events/gateway-event.js';
import type { GatewayLogger } from '../logger.js';
import { EventBuffer, warnOnOverflow } from './event-buffer.js';
import type { ShardCounters } from './stats.js';

/**
 * Hands a shard's events to its listeners and `events()` buffers. Listeners are called
 * synchronously, in arrival order; one that throws (or returns a rejected promise) is logged
 * and the next one still runs.
 */
export class EventDelivery {
  private listeners: GatewayEventListener[] = [];
  /** Created by the first events() call: most shards only have listeners. */
  private buffers: Set<EventBuffer<GatewayEvent>> | null = null;
  private retiredDropped = 0;

  constructor(
    private readonly shardId: number,
    private readonly logger: GatewayLogger,
    private readonly prefix: string,
    private readonly counters: ShardCounters,
  ) {}

  /** Events dropped by full `events()` buffers, ended ones included. */
  get dropped(): number {
    let dropped = this.retiredDropped;
    if (this.buffers !== null) for (const buffer of this.buffers) dropped += buffer.dropped;
    return dropped;
  }

  /** Adds a listener of every event; returns its unsubscribe function. */
  addListener(listener: GatewayEventListener): () => void {
    this.listeners = this.listeners.concat(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** A bounded buffer of every event from now on (see `Shard.events`). */
  events(capacity: number): AsyncIterableIterator<GatewayEvent> {
    let unsubscribe: () => void = () => {};
    const buffer: EventBuffer<GatewayEvent> = new EventBuffer<GatewayEvent>(
      capacity,
      warnOnOverflow(this.logger, this.prefix, capacity),
      () => {
        unsubscribe();
        if (this.buffers?.delete(buffer)) this.retiredDropped += buffer.dropped;
      },
    );
    (this.buffers ??= new Set()).add(buffer);
    unsubscribe = this.addListener((event) => buffer.push(event));
    return buffer;
  }

  /** Lifecycle events: always delivered (they are rare and the cluster relies on them). */
  emit(type: EventType, data: unknown): void {
    this.deliver(type, data, null);
  }

  deliver(type: EventType, data: unknown, sequence: number | null): void {
    const event = { shardId: this.shardId, type, data, sequence } as GatewayEvent;
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        const result = (listeners[i] as (e: GatewayEvent) => unknown)(event);
        if (result instanceof Promise)
          result.catch((error: unknown) => this.onListenerError(type, error));
      } catch (error) {
        this.onListenerError(type, error);
      }
    }
  }

  /** A frame that could not be used, or broke the protocol: counted, logged, SHARD_ERROR. */
  reportBadFrame(error: GatewayError): void {
    this.counters.badFrames++;
    this.logger.warn(`${this.prefix} ${error.message}`);
    this.emit(EventType.ShardError, { error });
  }

  /** Ends every `events()` buffer: their consumers finish once the buffered events are read. */
  end(): void {
    if (this.buffers !== null) for (const buffer of [...this.buffers]) buffer.end();
  }

  private onListenerError(type: string, error: unknown): void {
    this.logger.error(`${this.prefix} a listener of ${type} threw`, error);
  }
}
