import { GatewayDispatchEvents } from 'discord-api-types/v10';
import { ALL_EVENT_TYPES, EventType } from '../events/event-type.js';
import { EventTypeFlags } from '../events/event-type-flags.js';

/** Every dispatch name Discord documents; any other `t` is an UNKNOWN_EVENT. */
export const DISPATCH_NAMES: ReadonlySet<string> = new Set(Object.values(GatewayDispatchEvents));
const NO_DISPATCHES: ReadonlySet<string> = new Set();
/**
 * The dispatch-name sets of the filters in use, one per distinct filter and shared by every
 * shard with that filter: a set of every dispatch name is ~2.6 KiB of heap, and the shards of
 * a cluster share one filter.
 */
const wantedByFlags = new Map<EventTypeFlags, ReadonlySet<string>>();
/** Distinct filters kept; beyond it the cache starts over (filters change rarely). */
const MAX_CACHED_FILTERS = 32;

/**
 * A shard's decode filter (`eventTypes`): which dispatches are decoded and delivered. The
 * others are only peeked, their sequence still tracked. Lifecycle events (`SHARD_*`) are not
 * filtered.
 */
export class DispatchFilter {
  flags: EventTypeFlags = EventTypeFlags.NONE;
  /** The dispatch names delivered (shared with every filter of the same flags). */
  wanted: ReadonlySet<string> = NO_DISPATCHES;
  /** UNKNOWN_EVENT is wanted: a `t` outside {@link DISPATCH_NAMES}, or an unknown op. */
  wantUnknown = false;
  /**
   * Every dispatch is decoded (the default, EventTypeFlags.ALL): the filter could never skip
   * one, so the receive path goes straight to the full decode, without the hint or the peek.
   */
  decodeAll = false;

  constructor(flags: EventTypeFlags) {
    this.set(flags);
  }

  /** Takes effect from the next frame. */
  set(flags: EventTypeFlags): void {
    this.flags = flags;
    this.wanted = wantedDispatches(flags);
    this.wantUnknown = EventTypeFlags.has(flags, EventType.UnknownEvent);
    this.decodeAll = this.wantUnknown && this.wanted.size === DISPATCH_NAMES.size;
  }
}

function wantedDispatches(flags: EventTypeFlags): ReadonlySet<string> {
  let wanted = wantedByFlags.get(flags);
  if (wanted !== undefined) return wanted;
  const names = new Set<string>();
  for (const type of ALL_EVENT_TYPES) {
    if (DISPATCH_NAMES.has(type) && EventTypeFlags.has(flags, type)) names.add(type);
  }
  wanted = names;
  if (wantedByFlags.size >= MAX_CACHED_FILTERS) wantedByFlags.clear();
  wantedByFlags.set(flags, wanted);
  return wanted;
}
