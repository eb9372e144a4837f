import { jest } from '@jest/globals';
import { EventType, type GatewayEvent } from '../../lib/nest/index.js';
import type { FakeGateway } from '../../lib/testing/index.js';
import {
  EventScopedCounter,
  RequestScopedConsumer,
} from './app/consumers/request-scoped.consumer.js';
import { boot, messageData, startFake, type BootedApp } from './app/harness.js';

jest.setTimeout(20_000);

describe('GatewayModule: request-scoped handlers (a DI context per event)', () => {
  let fake: FakeGateway;
  let booted: BootedApp;

  beforeEach(async () => {
    fake = await startFake();
    booted = await boot(fake, { providers: [RequestScopedConsumer, EventScopedCounter] });
    await booted.cluster.waitUntilReady();
  });

  afterEach(async () => {
    await booted?.app.close();
    await fake?.stop();
  });

  it('resolves a fresh instance per event whose REQUEST is the event; handlers of one event share it', async () => {
    fake.dispatch(EventType.MessageCreate, messageData('first'), {
      shardId: 0,
      applyIntents: false,
    });
    fake.dispatch(EventType.MessageCreate, messageData('second'), {
      shardId: 0,
      applyIntents: false,
    });
    const calls = await booted.calls.waitFor('RequestScopedConsumer.onMessage', 2);
    const others = await booted.calls.waitFor('RequestScopedConsumer.alsoOnMessage', 2);

    const [first, second] = calls.map((call) => {
      const [data, event, request, counter] = call.args as [
        unknown,
        GatewayEvent,
        GatewayEvent,
        EventScopedCounter,
      ];
      expect(request).toBe(event);
      expect(event.data).toBe(data);
      return { instance: call.instance, counter, content: (data as { content: string }).content };
    });
    expect([first.content, second.content]).toEqual(['first', 'second']);
    expect(first.instance).not.toBe(second.instance);
    expect(first.counter.serial).not.toBe(second.counter.serial);
    // Both handlers of one event run in the same context: same request-scoped dependency.
    expect(others.map((call) => (call.args[0] as EventScopedCounter).serial)).toEqual([
      first.counter.serial,
      second.counter.serial,
    ]);
    expect(
      booted.logs.find('debug', 'RequestScopedConsumer.onMessage is request-scoped'),
    ).toHaveLength(1);
  });
});
