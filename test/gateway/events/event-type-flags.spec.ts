import { GatewayDispatchEvents } from 'discord-api-types/v10';
import {
  ALL_EVENT_TYPES,
  EventType,
  EventTypeFlags,
  LifecycleEventType,
  eventTypeFlag,
} from '../../../lib/gateway/events/index.js';

describe('EventType and EventTypeFlags', () => {
  it('EventType holds every Discord dispatch (keyed as GatewayDispatchEvents) and every lifecycle event', () => {
    for (const [key, value] of Object.entries(GatewayDispatchEvents)) {
      expect((EventType as Record<string, string>)[key]).toBe(value);
    }
    for (const [key, value] of Object.entries(LifecycleEventType)) {
      expect((EventType as Record<string, string>)[key]).toBe(value);
    }
    expect(EventType.MessageCreate).toBe('MESSAGE_CREATE');
  });

  it('no lifecycle name collides with a dispatch name, and ALL_EVENT_TYPES lists each type once', () => {
    const dispatches = new Set<string>(Object.values(GatewayDispatchEvents));
    for (const lifecycle of Object.values(LifecycleEventType))
      expect(dispatches.has(lifecycle)).toBe(false);
    expect(new Set(ALL_EVENT_TYPES).size).toBe(ALL_EVENT_TYPES.length);
    expect(new Set(ALL_EVENT_TYPES)).toEqual(new Set(Object.values(EventType)));
  });

  it('there are more than 53 types, so the flags need a bigint: some bits lie beyond Number precision', () => {
    expect(ALL_EVENT_TYPES.length).toBeGreaterThan(53);
    const highest = eventTypeFlag(ALL_EVENT_TYPES[ALL_EVENT_TYPES.length - 1]);
    expect(typeof highest).toBe('bigint');
    expect(highest > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('every type has exactly one bit, and no two types share a bit', () => {
    const seen = new Set<bigint>();
    for (const type of ALL_EVENT_TYPES) {
      const bit = eventTypeFlag(type);
      expect(bit).not.toBe(0n);
      expect(bit & (bit - 1n)).toBe(0n); // a power of two
      expect(seen.has(bit)).toBe(false);
      seen.add(bit);
    }
    expect(seen.size).toBe(ALL_EVENT_TYPES.length);
  });

  it('ALL covers every type and nothing else', () => {
    for (const type of ALL_EVENT_TYPES)
      expect(EventTypeFlags.has(EventTypeFlags.ALL, type)).toBe(true);
    expect(EventTypeFlags.ALL).toBe((1n << BigInt(ALL_EVENT_TYPES.length)) - 1n);
    expect(EventTypeFlags.toTypes(EventTypeFlags.ALL)).toEqual([...ALL_EVENT_TYPES]);
  });

  it('NONE has nothing; of() has exactly what it was given; toTypes() returns it in bit order', () => {
    for (const type of ALL_EVENT_TYPES)
      expect(EventTypeFlags.has(EventTypeFlags.NONE, type)).toBe(false);
    const flags = EventTypeFlags.of(
      EventType.ShardReady,
      EventType.MessageCreate,
      EventType.GuildCreate,
    );
    expect(EventTypeFlags.has(flags, 'MESSAGE_CREATE')).toBe(true);
    expect(EventTypeFlags.has(flags, 'MESSAGE_UPDATE')).toBe(false);
    expect(EventTypeFlags.toTypes(flags)).toEqual(
      ALL_EVENT_TYPES.filter((type) =>
        ['SHARD_READY', 'MESSAGE_CREATE', 'GUILD_CREATE'].includes(type),
      ),
    );
  });

  it('GW-ENV-3: an unknown dispatch name is contained exactly when UNKNOWN_EVENT is', () => {
    expect(eventTypeFlag('SOMETHING_NEW')).toBe(0n);
    expect(EventTypeFlags.has(EventTypeFlags.ALL, 'SOMETHING_NEW')).toBe(true);
    expect(EventTypeFlags.has(EventTypeFlags.NONE, 'SOMETHING_NEW')).toBe(false);
    expect(EventTypeFlags.has(EventTypeFlags.of(EventType.UnknownEvent), 'SOMETHING_NEW')).toBe(
      true,
    );
    expect(EventTypeFlags.has(EventTypeFlags.of(EventType.MessageCreate), 'SOMETHING_NEW')).toBe(
      false,
    );
    const allButUnknown = EventTypeFlags.ALL & ~eventTypeFlag(EventType.UnknownEvent);
    expect(EventTypeFlags.has(allButUnknown, 'SOMETHING_NEW')).toBe(false);
    // Names that only look like keys of the table's prototype are unknown too.
    expect(EventTypeFlags.has(allButUnknown, 'constructor')).toBe(false);
    expect(EventTypeFlags.has(allButUnknown, '__proto__')).toBe(false);
  });
});
