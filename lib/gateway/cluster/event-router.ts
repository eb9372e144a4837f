import { ALL_EVENT_TYPES, EventType } from '../events/event-type.js';
import { EventTypeFlags } from '../events/event-type-flags.js';
import type { GatewayEvent, GatewayEventListener } from '../events/gateway-event.js';
import type { GatewayLogger } from '../logger.js';
import { EventBuffer, warnOnOverflow } from '../shard/event-buffer.js';

interface Subscription {
  /** Types delivered; `null` = the base flags (which may change). */
  readonly flags: EventTypeFlags | null;
  /** `flags` as a set of names ({@link typesOf}), or `null` with them. */
  readonly types: ReadonlySet<string> | null;
  readonly listener: GatewayEventListener;
}

/**
 * The cluster's merged event stream: who receives which event, and which
 * types the shards must decode for that.
 *
 * - Listeners ({@link addListener}) receive the types of the base flags.
 * - Subscriptions ({@link subscribe}, {@link events}) receive their own types, and widen what
 *   every shard decodes while they last: effective flags = base | every subscription |
 *   {@link required}.
 * - A throwing or rejecting listener is logged; delivery goes on.
 *
 * Routing an event costs one Set lookup per listener group and allocates nothing: the flags of
 * each group are kept beside their type names.
 */
export class EventRouter {
  private baseFlags: EventTypeFlags;
  /** {@link baseFlags} as names, kept beside them: routing an event is then one Set lookup. */
  private baseTypes: ReadonlySet<string>;
  /** The base flags are EventTypeFlags.ALL (the default): listeners receive every event unchecked. */
  private baseAll: boolean;
  private requiredFlags: EventTypeFlags = EventTypeFlags.NONE;
  private effective: EventTypeFlags;
  private listeners: GatewayEventListener[] = [];
  private subscriptions: Subscription[] = [];
  private readonly buffers = new Set<EventBuffer<GatewayEvent>>();

  /**
   * @param flags the initial base flags
   * @param applyFlags called with the new effective flags each time they change, to set them on
   *   every shard
   */
  constructor(
    flags: EventTypeFlags,
    private readonly logger: GatewayLogger,
    private readonly applyFlags: (effective: EventTypeFlags) => void,
  ) {
    this.baseFlags = flags;
    this.baseTypes = typesOf(flags);
    this.baseAll = flags === EventTypeFlags.ALL;
    this.effective = flags;
  }

  /** What listeners receive; part of what the shards decode. Setting it recomputes {@link effectiveFlags}. */
  get flags(): EventTypeFlags {
    return this.baseFlags;
  }

  set flags(flags: EventTypeFlags) {
    this.baseFlags = flags;
    this.baseTypes = typesOf(flags);
    this.baseAll = flags === EventTypeFlags.ALL;
    this.update();
  }

  /**
   * Types the shards decode whatever the listeners ask, for the library's own use (the answers
   * to pending member requests). Default none.
   */
  set required(flags: EventTypeFlags) {
    this.requiredFlags = flags;
    this.update();
  }

  /** What every shard decodes: base | every subscription | {@link required}. */
  get effectiveFlags(): EventTypeFlags {
    return this.effective;
  }

  /** See `Cluster.addListener`. Returns the unsubscribe function. */
  addListener(listener: GatewayEventListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** See `Cluster.subscribe`. Returns the unsubscribe function, which restores the filter. */
  subscribe(types: readonly EventType[] | 'all', listener: GatewayEventListener): () => void {
    const flags = types === 'all' ? EventTypeFlags.ALL : EventTypeFlags.of(...types);
    return this.addSubscription({ flags, types: typesOf(flags), listener });
  }

  /**
   * See `Cluster.events`: a bounded buffer of `bufferSize` (default `defaultBufferSize`) events
   * of `types` (the base flags when omitted). With `ended` (the cluster is shut down) the
   * iterator is ended at once.
   */
  events(
    { types, bufferSize }: { types?: readonly EventType[]; bufferSize?: number },
    defaultBufferSize: number,
    ended: boolean,
  ): AsyncIterableIterator<GatewayEvent> {
    const capacity = bufferSize ?? defaultBufferSize;
    let unsubscribe: () => void = () => {};
    const buffer: EventBuffer<GatewayEvent> = new EventBuffer<GatewayEvent>(
      capacity,
      warnOnOverflow(this.logger, 'Cluster', capacity),
      () => {
        unsubscribe();
        this.buffers.delete(buffer);
      },
    );
    if (ended) {
      buffer.end();
      return buffer;
    }
    this.buffers.add(buffer);
    const flags = types === undefined ? null : EventTypeFlags.of(...types);
    unsubscribe = this.addSubscription({
      flags,
      types: flags === null ? null : typesOf(flags),
      listener: (event) => buffer.push(event),
    });
    return buffer;
  }

  /** Ends every {@link events} iterator (after the events already buffered). */
  endStreams(): void {
    for (const buffer of [...this.buffers]) buffer.end();
  }

  /** Calls every listener and subscription whose types include the event's, in that order. */
  deliver(event: GatewayEvent): void {
    const type = event.type;
    const base = this.baseTypes;
    if (this.baseAll || includes(base, type)) {
      const listeners = this.listeners;
      for (let i = 0; i < listeners.length; i++)
        this.call(listeners[i] as GatewayEventListener, event);
    }
    const subscriptions = this.subscriptions;
    for (let i = 0; i < subscriptions.length; i++) {
      const subscription = subscriptions[i] as Subscription;
      if (includes(subscription.types ?? base, type)) this.call(subscription.listener, event);
    }
  }

  private call(listener: GatewayEventListener, event: GatewayEvent): void {
    try {
      const result = (listener as (e: GatewayEvent) => unknown)(event);
      if (result instanceof Promise)
        result.catch((error: unknown) => this.onListenerError(event, error));
    } catch (error) {
      this.onListenerError(event, error);
    }
  }

  private onListenerError(event: GatewayEvent, error: unknown): void {
    this.logger.error(`A cluster listener of ${event.type} (shard ${event.shardId}) threw`, error);
  }

  private addSubscription(subscription: Subscription): () => void {
    this.subscriptions = [...this.subscriptions, subscription];
    if (subscription.flags !== null) this.update();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.subscriptions = this.subscriptions.filter((s) => s !== subscription);
      if (subscription.flags !== null) this.update();
    };
  }

  private update(): void {
    let flags = this.baseFlags | this.requiredFlags;
    for (const subscription of this.subscriptions) flags |= subscription.flags ?? 0n;
    if (flags === this.effective) return;
    this.effective = flags;
    this.applyFlags(flags);
  }
}

/** At most this many distinct flag values keep a cached type set (they are rarely many). */
const MAX_CACHED_TYPE_SETS = 64;
const typeSets = new Map<EventTypeFlags, ReadonlySet<string>>();
const KNOWN_TYPES: ReadonlySet<string> = new Set(ALL_EVENT_TYPES);

/**
 * The event types set in `flags`, cached per value: the per-event check is then one Set
 * lookup instead of a Map lookup and a bigint AND (which allocates a new bigint each time).
 */
function typesOf(flags: EventTypeFlags): ReadonlySet<string> {
  let types = typeSets.get(flags);
  if (types !== undefined) return types;
  types = new Set(EventTypeFlags.toTypes(flags));
  if (typeSets.size >= MAX_CACHED_TYPE_SETS) typeSets.clear();
  typeSets.set(flags, types);
  return types;
}

/** {@link EventTypeFlags.has} on a {@link typesOf} set: unknown names count as UNKNOWN_EVENT. */
function includes(types: ReadonlySet<string>, type: string): boolean {
  return types.has(type) || (!KNOWN_TYPES.has(type) && types.has(EventType.UnknownEvent));
}
