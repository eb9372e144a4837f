import { ALL_EVENT_TYPES, EventType } from './event-type.js';

/**
 * A set of {@link EventType}s as a bigint, one bit per type (there are more than 53, so a
 * JS number would not do). Dispatches whose bit is clear are not decoded by the shard; their
 * sequence is still tracked.
 */
export type EventTypeFlags = bigint;

const BIT_BY_TYPE: ReadonlyMap<string, bigint> = new Map(
  ALL_EVENT_TYPES.map((type, index) => [type, 1n << BigInt(index)]),
);

/** Bit of one event type, or `0n` for a name the library does not know. */
export function eventTypeFlag(type: string): bigint {
  return BIT_BY_TYPE.get(type) ?? 0n;
}

/** Builds and reads {@link EventTypeFlags} values. */
export const EventTypeFlags = {
  /** No event at all. */
  NONE: 0n as EventTypeFlags,
  /** Every known event type, UNKNOWN_EVENT included. */
  ALL: ALL_EVENT_TYPES.reduce((flags, type) => flags | eventTypeFlag(type), 0n) as EventTypeFlags,
  /** Flags with exactly the given types set. */
  of(...types: readonly EventType[]): EventTypeFlags {
    let flags = 0n;
    for (const type of types) flags |= eventTypeFlag(type);
    return flags;
  },
  /** Whether `flags` contains `type`. Unknown names are contained only via UNKNOWN_EVENT. */
  has(flags: EventTypeFlags, type: string): boolean {
    const bit = BIT_BY_TYPE.get(type) ?? eventTypeFlag(EventType.UnknownEvent);
    return (flags & bit) !== 0n;
  },
  /** The event types set in `flags`, in bit order. */
  toTypes(flags: EventTypeFlags): EventType[] {
    return ALL_EVENT_TYPES.filter((type) => (flags & eventTypeFlag(type)) !== 0n);
  },
} as const;
