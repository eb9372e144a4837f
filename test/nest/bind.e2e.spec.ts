import { jest } from '@jest/globals';
import { EventType, type GatewayEvent } from '../../lib/nest/index.js';
import type { FakeGateway } from '../../lib/testing/index.js';
import { aliasedConsumerProviders } from './app/consumers/aliased.consumer.js';
import { ControllerConsumer } from './app/consumers/controller.consumer.js';
import { factoryConsumerProvider } from './app/consumers/factory.consumer.js';
import { nullPrototypeProvider } from './app/consumers/null-prototype.consumer.js';
import { PlainConsumer } from './app/consumers/plain.consumer.js';
import { StackedConsumer } from './app/consumers/stacked.consumer.js';
import { TransientConsumer } from './app/consumers/transient.consumer.js';
import { boot, messageData, startFake, typingData, type BootedApp } from './app/harness.js';

jest.setTimeout(20_000);

describe('GatewayModule: binding @OnGatewayEvent handlers', () => {
  let fake: FakeGateway;
  let booted: BootedApp;

  beforeEach(async () => {
    fake = await startFake();
    booted = await boot(fake, {
      providers: [
        PlainConsumer,
        ...aliasedConsumerProviders,
        factoryConsumerProvider,
        nullPrototypeProvider,
        StackedConsumer,
        TransientConsumer,
      ],
      controllers: [ControllerConsumer],
    });
    await booted.cluster.waitUntilReady();
  });

  afterEach(async () => {
    await booted?.app.close();
    await fake?.stop();
  });

  it('calls a plain provider handler directly with (data, event)', async () => {
    const sent = messageData('hello');
    fake.dispatch(EventType.MessageCreate, sent, { shardId: 0, applyIntents: false });
    const [call] = await booted.calls.waitFor('PlainConsumer.onMessage');
    const [data, event] = call.args as [Record<string, unknown>, GatewayEvent];
    expect(data).toEqual(sent);
    expect(event.data).toBe(data);
    expect(event).toMatchObject({ shardId: 0, type: EventType.MessageCreate });
    expect(typeof event.sequence).toBe('number');
    expect(call.instance).toBe(booted.app.get(PlainConsumer));
    expect(
      booted.logs.find('debug', 'Bound PlainConsumer.onMessage to MESSAGE_CREATE (direct)'),
    ).toHaveLength(1);
  });

  it('binds controller handlers (GUILD_CREATE of the fake world after READY)', async () => {
    const calls = await booted.calls.waitFor('ControllerConsumer.onGuildCreate', 2);
    expect(calls.map((call) => call.type)).toEqual([EventType.GuildCreate, EventType.GuildCreate]);
    expect(calls[0].instance).toBe(booted.app.get(ControllerConsumer));
  });

  it('binds an aliased (useExisting) provider once and a useFactory provider once; skips a null-prototype value', async () => {
    fake.dispatch(EventType.MessageCreate, messageData('one'), { shardId: 0, applyIntents: false });
    fake.dispatch(EventType.MessageCreate, messageData('two'), { shardId: 0, applyIntents: false });
    await booted.calls.waitFor('PlainConsumer.onMessage', 2);
    expect(booted.calls.of('AliasedConsumer.onMessage')).toHaveLength(2);
    expect(booted.calls.of('FactoryConsumer.onMessage')).toHaveLength(2);
    expect(booted.logs.find('debug', 'Bound AliasedConsumer.onMessage')).toHaveLength(1);
    expect(booted.logs.find('debug', 'Bound FactoryConsumer.onMessage')).toHaveLength(1);
  });

  it('calls a method with stacked, overlapping decorators once per event', async () => {
    fake.dispatch(EventType.TypingStart, typingData(), { shardId: 0, applyIntents: false });
    fake.dispatch(EventType.MessageCreate, messageData('stacked'), {
      shardId: 0,
      applyIntents: false,
    });
    const calls = await booted.calls.waitFor('StackedConsumer.onMessageOrTyping', 2);
    await booted.calls.waitFor('PlainConsumer.onMessage', 1);
    expect(booted.calls.of('StackedConsumer.onMessageOrTyping').map((call) => call.type)).toEqual([
      EventType.TypingStart,
      EventType.MessageCreate,
    ]);
    expect(calls).toHaveLength(2);
  });

  it('binds a transient provider through an instance of its own, constructed with its dependencies', async () => {
    fake.dispatch(EventType.MessageCreate, messageData('transient'), {
      shardId: 0,
      applyIntents: false,
    });
    fake.dispatch(EventType.MessageCreate, messageData('again'), {
      shardId: 0,
      applyIntents: false,
    });
    const calls = await booted.calls.waitFor('TransientConsumer.onMessage', 2);
    expect(calls[0].instance).toBe(calls[1].instance);
    expect(calls[0].args[1]).toBe(booted.calls);
  });
});
