import { jest } from '@jest/globals';
import {
  Injectable,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { tap, type Observable } from 'rxjs';
import {
  Cluster,
  EventType,
  GATEWAY_CONTEXT_TYPE,
  GatewayExecutionContext,
  GatewayModule,
  OnGatewayEvent,
  type GatewayEvent,
} from '../../lib/nest/index.js';
import {
  RedisEventConsumer,
  RedisEventPublisher,
  RedisKeys,
  RedisSessionStore,
} from '../../lib/redis/index.js';
import { FakeGateway } from '../../lib/testing/index.js';
import { CallLog } from '../nest/app/call-log.js';
import { CommandFailedFilter, FilterConsumer } from '../nest/app/consumers/filter.consumer.js';
import {
  AllowingGuard,
  GuardedConsumer,
  RejectingGuard,
} from '../nest/app/consumers/guarded.consumer.js';
import {
  InterceptorConsumer,
  TracingInterceptor,
} from '../nest/app/consumers/interceptor.consumer.js';
import { PipeConsumer, UpperCasePipe } from '../nest/app/consumers/pipe.consumer.js';
import { PlainConsumer } from '../nest/app/consumers/plain.consumer.js';
import { LogCapture } from '../nest/app/log-capture.js';
import { describeWithRedis, uniquePrefix, type TestRedis } from '../support/redis-server.js';

/**
 * The enhancer fixtures of test/nest/enhancers.e2e.spec.ts (guards, a pipe, interceptors,
 * exception filters), bound in a `forConsumer` app whose events come from a real gateway
 * (a Cluster on a FakeGateway) through a real redis-server: they must behave as with `forRoot`.
 */
jest.setTimeout(30_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records before and after an async handler, and the entry's pending state while it runs. */
@Injectable()
class AwaitingInterceptor implements NestInterceptor {
  static trace: string[] = [];

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const gateway = GatewayExecutionContext.create(context);
    AwaitingInterceptor.trace.push(`before ${gateway.getEventType()}`);
    return next
      .handle()
      .pipe(tap((result) => AwaitingInterceptor.trace.push(`after ${String(result)}`)));
  }
}

@UseInterceptors(AwaitingInterceptor)
@Injectable()
class AsyncInterceptedConsumer {
  /** Set by the test: what the handler sees of its own entry in the group's pending list. */
  static pendingWhileRunning: (event: GatewayEvent) => Promise<number> = async () => -1;

  constructor(private readonly log: CallLog) {}

  @OnGatewayEvent(EventType.MessageCreate)
  async onMessage(_data: unknown, event: GatewayEvent): Promise<string> {
    AwaitingInterceptor.trace.push('handler start');
    await sleep(300);
    const pending = await AsyncInterceptedConsumer.pendingWhileRunning(event);
    AwaitingInterceptor.trace.push(`handler end (pending ${pending})`);
    this.log.record('AsyncInterceptedConsumer.onMessage', this, event, []);
    return 'awaited';
  }
}

describeWithRedis(
  'forConsumer: guards, pipes, interceptors and filters apply as with forRoot (real redis-server)',
  (server: TestRedis) => {
    let fake: FakeGateway;
    let cluster: Cluster;
    let consumerApp: TestingModule;
    let calls: CallLog;
    let logs: LogCapture;
    let redis: Redis;
    let keys: RedisKeys;

    beforeEach(async () => {
      RejectingGuard.seen = [];
      TracingInterceptor.trace = [];
      AwaitingInterceptor.trace = [];
      CommandFailedFilter.caught = [];
      const prefix = uniquePrefix('enhancers');
      keys = RedisKeys.of({ token: FakeGateway.defaultToken, keyPrefix: prefix });
      redis = server.client();
      fake = await FakeGateway.start({ shards: 1 });
      const identity = { redis, token: FakeGateway.defaultToken, keyPrefix: prefix };
      cluster = new Cluster(
        {
          token: FakeGateway.defaultToken,
          intents: ['Guilds', 'GuildMessages', 'MessageContent'],
          gatewayUrl: fake.url,
          apiUrl: fake.apiUrl,
          shards: { from: 0, to: 0, shardCount: 1 },
        },
        {
          sessionStore: new RedisSessionStore(identity),
          eventSink: new RedisEventPublisher({
            ...identity,
            eventTypes: [EventType.MessageCreate],
            reportIntervalMs: 200,
          }),
        },
      );
      await cluster.up();
      const source = new RedisEventConsumer({
        ...identity,
        redis: server.client(),
        group: 'enhanced',
        consumerName: 'c1',
        shardCount: 1,
        leaseMs: 1_500,
      });
      AsyncInterceptedConsumer.pendingWhileRunning = async (event) => {
        const [count] = (await redis.xpending(keys.events(1, event.shardId), 'enhanced')) as [
          number,
        ];
        return count;
      };
      logs = new LogCapture();
      consumerApp = await Test.createTestingModule({
        imports: [GatewayModule.forConsumer({ source, logLevel: 'debug' })],
        providers: [
          CallLog,
          PlainConsumer,
          GuardedConsumer,
          RejectingGuard,
          AllowingGuard,
          PipeConsumer,
          UpperCasePipe,
          InterceptorConsumer,
          TracingInterceptor,
          AsyncInterceptedConsumer,
          AwaitingInterceptor,
          FilterConsumer,
        ],
      })
        .setLogger(logs)
        .compile();
      consumerApp.useLogger(logs);
      await consumerApp.init();
      calls = consumerApp.get(CallLog);
      await source.waitUntilReady();
    });

    afterEach(async () => {
      await consumerApp?.close();
      await cluster?.down();
      await fake?.stop();
      await server.closeClients();
    });

    /** One MESSAGE_CREATE (shard 0), through the gateway, Redis and the consumer; resolves once acknowledged. */
    async function send(content: string): Promise<void> {
      fake.dispatch('MESSAGE_CREATE', {
        id: String(BigInt(1_000_000 + Math.floor(Math.random() * 1e6)) << 22n),
        channel_id: '1200000000000000001',
        guild_id: '1200000000000000002',
        author: { id: '42', username: 'someone', discriminator: '0', avatar: null },
        content,
        timestamp: new Date().toISOString(),
      });
      await calls.waitFor('PlainConsumer.onMessage');
      await calls.waitFor('AsyncInterceptedConsumer.onMessage');
      // The entry is acknowledged once every handler settled (filters and logging included).
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        const [count] = (await redis.xpending(keys.events(1, 0), 'enhanced')) as [number];
        if (count === 0) return;
        await sleep(20);
      }
      throw new Error('the entry was never acknowledged');
    }

    it('binds the enhanced handlers to the pipeline, the plain one directly', () => {
      const bound = (name: string) =>
        logs.find('debug', `Bound ${name} to MESSAGE_CREATE`)[0]?.message;
      expect(bound('PlainConsumer.onMessage')).toMatch(/\(direct\)$/);
      for (const name of [
        'GuardedConsumer.rejected',
        'PipeConsumer.onMessage',
        'InterceptorConsumer.onMessage',
        'AsyncInterceptedConsumer.onMessage',
        'FilterConsumer.caught',
      ]) {
        expect(bound(name)).toMatch(/\(enhancers\)$/);
      }
    });

    it('a rejecting guard stops its handler (debug log, no error); an allowing guard lets its handler run', async () => {
      await send('guarded');
      expect(calls.of('GuardedConsumer.allowed')).toHaveLength(1);
      expect(calls.of('GuardedConsumer.rejected')).toHaveLength(0);
      expect(RejectingGuard.seen).toEqual([
        {
          type: GATEWAY_CONTEXT_TYPE,
          eventType: EventType.MessageCreate,
          handler: 'GuardedConsumer.rejected',
        },
      ]);
      expect(
        logs.find(
          'debug',
          'A guard rejected MESSAGE_CREATE (shard 0) for GuardedConsumer.rejected; handler skipped',
        ),
      ).toHaveLength(1);
      expect(logs.text()).not.toContain('Forbidden');
    });

    it('a pipe transforms the payload the handler gets; parameter decorators are filled', async () => {
      await send('make me loud');
      const [call] = calls.of('PipeConsumer.onMessage');
      const [shardId, content, event, data] = call!.args as [
        number,
        string,
        GatewayEvent,
        { content: string },
      ];
      expect(shardId).toBe(0);
      expect(content).toBe('MAKE ME LOUD');
      expect(event.type).toBe(EventType.MessageCreate);
      expect(event.entryId).toMatch(/^1-\d+$/);
      expect(data.content).toBe('make me loud');
    });

    it('an interceptor runs before and after the handler; an async handler is awaited inside it and before the acknowledgement', async () => {
      await send('intercepted');
      expect(TracingInterceptor.trace).toEqual([
        `before ${GATEWAY_CONTEXT_TYPE} MESSAGE_CREATE shard 0`,
        'handler',
        'after handled',
      ]);
      expect(AwaitingInterceptor.trace).toEqual([
        'before MESSAGE_CREATE',
        'handler start',
        'handler end (pending 1)',
        'after awaited',
      ]);
    });

    it('an exception filter sees what the handler threw; what no filter catches is logged as a handler failure', async () => {
      await send('filtered');
      await calls.waitFor('FilterConsumer.caught');
      await calls.waitFor('FilterConsumer.uncaught');
      expect(CommandFailedFilter.caught).toEqual([
        { message: 'handled by the filter', type: GATEWAY_CONTEXT_TYPE, gateway: true, shardId: 0 },
      ]);
      expect(logs.find('error', 'FilterConsumer.caught')).toEqual([]);
      const uncaught = logs.find(
        'error',
        'Handler FilterConsumer.uncaught failed on MESSAGE_CREATE (shard 0)',
      );
      expect(uncaught).toHaveLength(1);
      expect(String(uncaught[0]!.extra[0])).toContain('no filter for this one');
    });
  },
);
