import { jest } from '@jest/globals';
import {
  EventType,
  EventTypeFlags,
  GatewayModule,
  type GatewayEvent,
  type ShardStats,
} from '../../lib/nest/index.js';
import type { FakeGateway } from '../../lib/testing/index.js';
import { CatchAllConsumer } from './app/consumers/catch-all.consumer.js';
import { PlainConsumer } from './app/consumers/plain.consumer.js';
import {
  boot,
  gatewayOptions,
  messageData,
  startFake,
  typingData,
  type BootedApp,
} from './app/harness.js';

jest.setTimeout(20_000);

describe('GatewayModule: the decode filter follows the handlers', () => {
  let fake: FakeGateway;
  let booted: BootedApp;
  let markers = 0;

  beforeEach(async () => {
    fake = await startFake();
  });

  afterEach(async () => {
    await booted?.app.close();
    await fake.stop();
  });

  const stats = (): ShardStats => booted.cluster.cluster.shard(0).stats;
  const send = (type: string, data: unknown): void => {
    fake.dispatch(type, data, { shardId: 0, applyIntents: false });
  };
  /**
   * Sends a MESSAGE_CREATE and waits for PlainConsumer to get it: dispatches arrive in order,
   * so everything sent before it has been through the shard.
   */
  const flush = async (): Promise<void> => {
    markers += 1;
    send(EventType.MessageCreate, messageData(`marker ${markers}`));
    await booted.calls.waitFor('PlainConsumer.onMessage', markers);
  };

  const bootPlain = async (overrides = {}): Promise<void> => {
    markers = 0;
    booted = await boot(fake, {
      gateway: GatewayModule.forRoot(gatewayOptions(fake, overrides)),
      providers: [PlainConsumer],
    });
    await booted.cluster.waitUntilReady();
    await flush();
  };

  it('decodes only the types handlers are bound to: an unhandled type is skipped, never decoded (GW-ENV-3)', async () => {
    await bootPlain();
    expect(booted.cluster.cluster.eventTypes).toBe(EventTypeFlags.of(EventType.MessageCreate));
    expect(
      booted.logs.find('log', 'Decoding 1 event type the handlers ask for: MESSAGE_CREATE'),
    ).toHaveLength(1);

    const before = stats();
    for (let i = 0; i < 5; i++) send(EventType.TypingStart, typingData());
    await flush();
    const after = stats();
    expect(after.dispatchesSkipped - before.dispatchesSkipped).toBe(5);
    expect(after.dispatchesDecoded - before.dispatchesDecoded).toBe(1);
  });

  it('events$(type) widens the filter while subscribed and restores it on unsubscribe', async () => {
    await bootPlain();
    const received: GatewayEvent<typeof EventType.TypingStart>[] = [];
    const subscription = booted.cluster
      .events$(EventType.TypingStart)
      .subscribe((event) => received.push(event));

    let before = stats();
    for (let i = 0; i < 3; i++) send(EventType.TypingStart, typingData());
    await flush();
    let after = stats();
    expect(received.map((event) => [event.type, event.shardId])).toEqual([
      [EventType.TypingStart, 0],
      [EventType.TypingStart, 0],
      [EventType.TypingStart, 0],
    ]);
    expect(received[0].data).toEqual(typingData());
    expect(after.dispatchesDecoded - before.dispatchesDecoded).toBe(4);
    expect(after.dispatchesSkipped - before.dispatchesSkipped).toBe(0);
    // The handlers' listener still sees only what it asked for.
    expect(booted.calls.calls.every((call) => call.type === EventType.MessageCreate)).toBe(true);

    subscription.unsubscribe();
    before = stats();
    send(EventType.TypingStart, typingData());
    await flush();
    after = stats();
    expect(received).toHaveLength(3);
    expect(after.dispatchesSkipped - before.dispatchesSkipped).toBe(1);
    expect(after.dispatchesDecoded - before.dispatchesDecoded).toBe(1);
  });

  it('events$() without types delivers every event while subscribed', async () => {
    await bootPlain();
    const types: string[] = [];
    const subscription = booted.cluster.events$().subscribe((event) => types.push(event.type));
    const before = stats();
    send(EventType.TypingStart, typingData());
    await flush();
    subscription.unsubscribe();
    expect(types).toEqual([EventType.TypingStart, EventType.MessageCreate]);
    expect(stats().dispatchesSkipped - before.dispatchesSkipped).toBe(0);
  });

  it('keeps explicit eventTypes and warns about handlers they leave out', async () => {
    booted = await boot(fake, {
      gateway: GatewayModule.forRoot(
        gatewayOptions(fake, {
          eventTypes: EventTypeFlags.of(EventType.TypingStart),
          connectOnBootstrap: false,
        }),
      ),
      providers: [PlainConsumer],
    });
    expect(booted.cluster.cluster.eventTypes).toBe(EventTypeFlags.of(EventType.TypingStart));
    expect(
      booted.logs.find(
        'warn',
        'PlainConsumer.onMessage handles MESSAGE_CREATE, which the configured eventTypes leave out',
      ),
    ).toHaveLength(1);
  });

  it('a catch-all handler turns the filter off (startup line) and receives every event', async () => {
    markers = 0;
    booted = await boot(fake, { providers: [PlainConsumer, CatchAllConsumer] });
    await booted.cluster.waitUntilReady();
    expect(booted.cluster.cluster.eventTypes).toBe(EventTypeFlags.ALL);
    expect(
      booted.logs.find(
        'log',
        'Catch-all handlers CatchAllConsumer.onAny, CatchAllConsumer.onStar: the decode filter is off',
      ),
    ).toHaveLength(1);
    await flush();
    const before = stats();
    send(EventType.TypingStart, typingData());
    await flush();
    expect(stats().dispatchesSkipped - before.dispatchesSkipped).toBe(0);
    for (const handler of ['CatchAllConsumer.onAny', 'CatchAllConsumer.onStar']) {
      const types = booted.calls.of(handler).map((call) => call.type);
      expect(types).toEqual(
        expect.arrayContaining([EventType.Ready, EventType.GuildCreate, EventType.TypingStart]),
      );
      expect(types.filter((type) => type === EventType.TypingStart)).toHaveLength(1);
    }
  });
});
