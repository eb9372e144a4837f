import { EventRouter } from '../../../lib/gateway/cluster/event-router.js';
import { EventType } from '../../../lib/gateway/events/event-type.js';
import { EventTypeFlags } from '../../../lib/gateway/events/event-type-flags.js';
import type { GatewayEvent } from '../../../lib/gateway/events/gateway-event.js';
import type { GatewayLogger } from '../../../lib/gateway/logger.js';

function event(type: string, shardId = 0): GatewayEvent {
  return { shardId, type, data: {}, sequence: 1 } as GatewayEvent;
}

function setup(flags = EventTypeFlags.of(EventType.MessageCreate)) {
  const applied: EventTypeFlags[] = [];
  const errors: string[] = [];
  const logger: GatewayLogger = {
    debug: () => {},
    log: () => {},
    warn: () => {},
    error: (message) => errors.push(message),
  };
  const router = new EventRouter(flags, logger, (effective) => applied.push(effective));
  return { router, applied, errors };
}

describe('EventRouter (the cluster event stream, without shards)', () => {
  it('listeners receive the base flags only; a subscription its own types', () => {
    const { router } = setup();
    const base: string[] = [];
    const typing: string[] = [];
    router.addListener((e) => base.push(e.type));
    router.subscribe([EventType.TypingStart], (e) => typing.push(e.type));
    for (const type of [EventType.MessageCreate, EventType.TypingStart, EventType.GuildCreate])
      router.deliver(event(type));
    expect(base).toEqual([EventType.MessageCreate]);
    expect(typing).toEqual([EventType.TypingStart]);
  });

  it('a subscription widens what the shards decode while it lasts; unsubscribing restores it', () => {
    const { router, applied } = setup();
    const message = EventTypeFlags.of(EventType.MessageCreate);
    const typing = EventTypeFlags.of(EventType.TypingStart);
    const unsubscribe = router.subscribe([EventType.TypingStart], () => {});
    expect(router.effectiveFlags).toBe(message | typing);
    unsubscribe();
    unsubscribe(); // a second call changes nothing
    expect(router.effectiveFlags).toBe(message);
    expect(applied).toEqual([message | typing, message]);
  });

  it('required flags (member request answers) widen the shards, not the listeners', () => {
    const { router, applied } = setup();
    const got: string[] = [];
    router.addListener((e) => got.push(e.type));
    const chunk = EventTypeFlags.of(EventType.GuildMembersChunk);
    router.required = chunk;
    expect(router.effectiveFlags & chunk).toBe(chunk);
    router.deliver(event(EventType.GuildMembersChunk));
    expect(got).toEqual([]);
    router.required = EventTypeFlags.NONE;
    expect(applied).toEqual([chunk | EventTypeFlags.of(EventType.MessageCreate), router.flags]);
  });

  it('an unchanged effective filter is not applied again', () => {
    const { router, applied } = setup();
    router.subscribe([EventType.MessageCreate], () => {}); // already in the base flags
    router.flags = EventTypeFlags.of(EventType.MessageCreate);
    expect(applied).toEqual([]);
  });

  it('changing the base flags reroutes listeners and subscriptions without types', () => {
    const { router } = setup();
    const base: string[] = [];
    const stream = router.events({}, 10, false);
    router.addListener((e) => base.push(e.type));
    router.flags = EventTypeFlags.of(EventType.GuildCreate);
    router.deliver(event(EventType.MessageCreate));
    router.deliver(event(EventType.GuildCreate));
    expect(base).toEqual([EventType.GuildCreate]);
    router.endStreams();
    return expect(drain(stream)).resolves.toEqual([EventType.GuildCreate]);
  });

  it('an unknown dispatch name reaches those that asked for UNKNOWN_EVENT', () => {
    const { router } = setup(EventTypeFlags.of(EventType.UnknownEvent));
    const got: string[] = [];
    router.addListener((e) => got.push(e.type));
    router.deliver(event('SOMETHING_NEW'));
    router.deliver(event(EventType.MessageCreate));
    expect(got).toEqual(['SOMETHING_NEW']);
  });

  it('a throwing or rejecting listener is logged and the next ones still run', async () => {
    const { router, errors } = setup();
    const got: number[] = [];
    router.addListener(() => {
      throw new Error('sync');
    });
    router.addListener((() => Promise.reject(new Error('async'))) as never);
    router.addListener(() => got.push(1));
    router.deliver(event(EventType.MessageCreate, 3));
    await new Promise((resolve) => setImmediate(resolve));
    expect(got).toEqual([1]);
    expect(errors).toEqual([
      'A cluster listener of MESSAGE_CREATE (shard 3) threw',
      'A cluster listener of MESSAGE_CREATE (shard 3) threw',
    ]);
  });

  it('events() of a shut-down cluster ends at once; break unsubscribes and restores the filter', async () => {
    const { router } = setup();
    expect(await drain(router.events({}, 10, true))).toEqual([]);
    const stream = router.events({ types: [EventType.TypingStart] }, 10, false);
    expect(router.effectiveFlags & EventTypeFlags.of(EventType.TypingStart)).not.toBe(0n);
    router.deliver(event(EventType.TypingStart));
    for await (const e of stream) {
      expect(e.type).toBe(EventType.TypingStart);
      break;
    }
    expect(router.effectiveFlags).toBe(router.flags);
  });
});

async function drain(stream: AsyncIterable<GatewayEvent>): Promise<string[]> {
  const types: string[] = [];
  for await (const e of stream) types.push(e.type);
  return types;
}
