import { jest } from '@jest/globals';
import { EventType, ShardState } from '../../lib/nest/index.js';
import type { FakeGateway } from '../../lib/testing/index.js';
import { OddThrowingConsumer } from './app/consumers/odd-throwing.consumer.js';
import { PlainConsumer } from './app/consumers/plain.consumer.js';
import { PresenceOnMessageConsumer } from './app/consumers/presence-on-message.consumer.js';
import { ThrowingConsumer } from './app/consumers/throwing.consumer.js';
import { boot, messageData, startFake, type BootedApp } from './app/harness.js';

jest.setTimeout(20_000);

describe('GatewayModule: failing handlers (handler errors never reach the shard)', () => {
  let fake: FakeGateway;
  let booted: BootedApp;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeEach(async () => {
    process.on('unhandledRejection', onUnhandled);
    fake = await startFake();
    booted = await boot(fake, { providers: [ThrowingConsumer, PlainConsumer] });
    await booted.cluster.waitUntilReady();
  });

  afterEach(async () => {
    process.off('unhandledRejection', onUnhandled);
    await booted?.app.close();
    await fake?.stop();
  });

  it('logs a throwing and a rejecting handler with class, method, event and shard; the rest goes on', async () => {
    fake.dispatch(EventType.MessageCreate, messageData('boom'), {
      shardId: 0,
      applyIntents: false,
    });
    fake.dispatch(EventType.MessageCreate, messageData('again'), {
      shardId: 0,
      applyIntents: false,
    });
    await booted.calls.waitFor('ThrowingConsumer.runsAfter', 2);
    await booted.calls.waitFor('PlainConsumer.onMessage', 2);
    await booted.calls.waitFor('ThrowingConsumer.throws', 2);
    await booted.calls.waitFor('ThrowingConsumer.rejects', 2);
    // The rejection is logged a microtask or two after the call.
    await new Promise((resolve) => setImmediate(resolve));

    const thrown = booted.logs.find(
      'error',
      'Handler ThrowingConsumer.throws failed on MESSAGE_CREATE (shard 0)',
    );
    const rejected = booted.logs.find(
      'error',
      'Handler ThrowingConsumer.rejects failed on MESSAGE_CREATE (shard 0)',
    );
    expect(thrown).toHaveLength(2);
    expect(rejected).toHaveLength(2);
    expect(String(thrown[0].extra[0])).toContain('sync handler failure');
    expect(String(rejected[0].extra[0])).toContain('async handler failure');
    expect(unhandled).toEqual([]);
    expect(booted.cluster.cluster.shard(0).state).toBe(ShardState.Active);
    expect(booted.cluster.cluster.shard(0).info().reconnects).toBe(0);
  });

  it('a value that cannot become a string, thrown or rejected, is logged as unprintable; the next handler still runs', async () => {
    await booted.app.close();
    await fake.stop();
    fake = await startFake();
    booted = await boot(fake, { providers: [OddThrowingConsumer] });
    await booted.cluster.waitUntilReady();
    fake.dispatch(EventType.MessageCreate, messageData('odd'), { shardId: 0, applyIntents: false });
    await booted.calls.waitFor('OddThrowingConsumer.runsAfter', 1);
    await booted.calls.waitFor('OddThrowingConsumer.rejectsOdd', 1);
    await new Promise((resolve) => setImmediate(resolve));

    for (const method of ['throwsOdd', 'rejectsOdd']) {
      const lines = booted.logs.find(
        'error',
        `Handler OddThrowingConsumer.${method} failed on MESSAGE_CREATE (shard 0)`,
      );
      expect(lines).toHaveLength(1);
      expect(lines[0].extra[0]).toBe('[unprintable object]');
    }
    expect(unhandled).toEqual([]);
    expect(booted.cluster.cluster.shard(0).state).toBe(ShardState.Active);
  });

  it('a command a shutdown drops is not reported as a failing handler (debug, not error)', async () => {
    await booted.app.close();
    await fake.stop();
    fake = await startFake();
    booted = await boot(fake, { providers: [PresenceOnMessageConsumer] });
    await booted.cluster.waitUntilReady();
    for (let i = 0; i < 8; i++) {
      fake.dispatch(EventType.MessageCreate, messageData(`m${i}`), {
        shardId: 0,
        applyIntents: false,
      });
    }
    await booted.calls.waitFor('PresenceOnMessageConsumer.onMessage', 8);
    await booted.app.close();
    await new Promise((resolve) => setImmediate(resolve));

    const dropped = booted.logs.find(
      'debug',
      'Handler PresenceOnMessageConsumer.onMessage on MESSAGE_CREATE (shard 0): its command was not sent',
    );
    expect(dropped.length).toBeGreaterThanOrEqual(3);
    expect(booted.logs.find('error', 'PresenceOnMessageConsumer')).toEqual([]);
    expect(unhandled).toEqual([]);
  });
});
