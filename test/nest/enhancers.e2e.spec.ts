import { jest } from '@jest/globals';
import { EventType, GATEWAY_CONTEXT_TYPE, type GatewayEvent } from '../../lib/nest/index.js';
import type { FakeGateway } from '../../lib/testing/index.js';
import { CommandFailedFilter, FilterConsumer } from './app/consumers/filter.consumer.js';
import {
  AllowingGuard,
  GuardedConsumer,
  RejectingGuard,
} from './app/consumers/guarded.consumer.js';
import { InterceptorConsumer, TracingInterceptor } from './app/consumers/interceptor.consumer.js';
import { PipeConsumer, UpperCasePipe } from './app/consumers/pipe.consumer.js';
import { PlainConsumer } from './app/consumers/plain.consumer.js';
import { boot, messageData, startFake, type BootedApp } from './app/harness.js';

jest.setTimeout(20_000);

describe('GatewayModule: Nest enhancers on handlers (context type discord-gateway)', () => {
  let fake: FakeGateway;
  let booted: BootedApp;

  beforeEach(async () => {
    RejectingGuard.seen = [];
    TracingInterceptor.trace = [];
    CommandFailedFilter.caught = [];
    fake = await startFake();
    booted = await boot(fake, {
      providers: [
        PlainConsumer,
        GuardedConsumer,
        RejectingGuard,
        AllowingGuard,
        PipeConsumer,
        UpperCasePipe,
        InterceptorConsumer,
        TracingInterceptor,
        FilterConsumer,
      ],
    });
    await booted.cluster.waitUntilReady();
  });

  afterEach(async () => {
    await booted?.app.close();
    await fake?.stop();
  });

  const send = (content: string): void => {
    fake.dispatch(EventType.MessageCreate, messageData(content), {
      shardId: 0,
      applyIntents: false,
    });
  };

  it('takes the pipeline only for handlers with enhancers; the others are called directly', () => {
    const bound = (name: string) =>
      booted.logs.find('debug', `Bound ${name} to MESSAGE_CREATE`)[0]?.message;
    expect(bound('PlainConsumer.onMessage')).toMatch(/\(direct\)$/);
    expect(bound('GuardedConsumer.rejected')).toMatch(/\(enhancers\)$/);
    expect(bound('PipeConsumer.onMessage')).toMatch(/\(enhancers\)$/);
    expect(bound('InterceptorConsumer.onMessage')).toMatch(/\(enhancers\)$/);
    expect(bound('FilterConsumer.caught')).toMatch(/\(enhancers\)$/);
  });

  it('skips a handler whose guard rejects (debug log), calls the one whose guard allows', async () => {
    send('guarded');
    const [allowed] = await booted.calls.waitFor('GuardedConsumer.allowed');
    await booted.calls.waitFor('PlainConsumer.onMessage');
    await new Promise((resolve) => setImmediate(resolve));
    expect(booted.calls.of('GuardedConsumer.rejected')).toHaveLength(0);
    expect(RejectingGuard.seen).toEqual([
      {
        type: GATEWAY_CONTEXT_TYPE,
        eventType: EventType.MessageCreate,
        handler: 'GuardedConsumer.rejected',
      },
    ]);
    expect(
      booted.logs.find(
        'debug',
        'A guard rejected MESSAGE_CREATE (shard 0) for GuardedConsumer.rejected; handler skipped',
      ),
    ).toHaveLength(1);
    expect(booted.logs.text()).not.toContain('Forbidden');
    expect(
      booted.logs.lines.filter(
        (line) => line.level === 'error' && line.message.includes('Guarded'),
      ),
    ).toEqual([]);
    // Without parameter decorators the enhanced handler still gets (data, event).
    const [data, event] = allowed.args as [unknown, GatewayEvent];
    expect(event.data).toBe(data);
  });

  it('fills parameter decorators in any order and runs the transforming pipe', async () => {
    send('make me loud');
    const [call] = await booted.calls.waitFor('PipeConsumer.onMessage');
    const [shardId, content, event, data] = call.args as [
      number,
      string,
      GatewayEvent,
      { content: string },
    ];
    expect(shardId).toBe(0);
    expect(content).toBe('MAKE ME LOUD');
    expect(event.type).toBe(EventType.MessageCreate);
    expect(data).toBe(event.data);
    expect(data.content).toBe('make me loud');
  });

  it('runs a class interceptor around the handler and sees its result', async () => {
    send('intercepted');
    await booted.calls.waitFor('InterceptorConsumer.onMessage');
    await new Promise((resolve) => setImmediate(resolve));
    expect(TracingInterceptor.trace).toEqual([
      `before ${GATEWAY_CONTEXT_TYPE} MESSAGE_CREATE shard 0`,
      'handler',
      'after handled',
    ]);
  });

  it('lets an exception filter handle what it catches; what it does not catch is logged as a handler failure', async () => {
    send('filtered');
    await booted.calls.waitFor('FilterConsumer.caught');
    await booted.calls.waitFor('FilterConsumer.uncaught');
    await new Promise((resolve) => setImmediate(resolve));
    expect(CommandFailedFilter.caught).toEqual([
      { message: 'handled by the filter', type: GATEWAY_CONTEXT_TYPE, gateway: true, shardId: 0 },
    ]);
    expect(booted.logs.find('error', 'FilterConsumer.caught')).toEqual([]);
    const uncaught = booted.logs.find(
      'error',
      'Handler FilterConsumer.uncaught failed on MESSAGE_CREATE (shard 0)',
    );
    expect(uncaught).toHaveLength(1);
    expect(String(uncaught[0].extra[0])).toContain('no filter for this one');
    // Nest's generic "ExceptionsHandler" line is not written on top of ours.
    expect(booted.logs.lines.filter((line) => line.context === 'ExceptionsHandler')).toEqual([]);
  });
});
