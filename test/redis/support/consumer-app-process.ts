/**
 * One consumer process of the stream tests as a bot runs it: a Nest app in consumer mode
 * (`GatewayModule.forConsumer`) whose `@OnGatewayEvent` handler records each MESSAGE_CREATE as
 * {@link recordEvent} does, behind an interceptor that counts the calls it wrapped
 * (`<prefix>:test:intercepted:<group>`) once the handler finished. Configured by argv[2] (JSON
 * {@link ConsumerProcessConfig}); reports to the test over IPC as consumer-process.ts does.
 *
 * The TypeScript runs through tsx, which emits no decorator metadata: every constructor
 * parameter names its token with `@Inject`.
 */
import 'reflect-metadata';
import {
  Inject,
  Injectable,
  Module,
  UseInterceptors,
  type CallHandler,
  type NestInterceptor,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { mergeMap, type Observable } from 'rxjs';
import {
  describeError,
  EventType,
  GatewayModule,
  OnGatewayEvent,
  type GatewayEvent,
  type GatewayLogger,
} from '../../../lib/nest/index.js';
import { RedisEventConsumer } from '../../../lib/redis/index.js';
import type { ConsumerProcessConfig, ConsumerProcessReport } from './consumer-process.js';
import { recordEvent, recordKey } from './record-event.js';

const REDIS = Symbol('redis');
const CONFIG = Symbol('config');

const config = JSON.parse(process.argv[2]) as ConsumerProcessConfig;
const report = (message: ConsumerProcessReport): void => {
  process.send?.(message);
};
const logger: GatewayLogger = {
  debug: () => {},
  log: (message) => report({ type: 'log', level: 'log', message }),
  warn: (message) => report({ type: 'log', level: 'warn', message }),
  error: (message, error) =>
    report({
      type: 'log',
      level: 'error',
      message: error === undefined ? message : `${message}: ${describeError(error)}`,
    }),
};

@Injectable()
class CountingInterceptor implements NestInterceptor {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: ConsumerProcessConfig,
  ) {}

  intercept(_context: unknown, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      mergeMap(async (result: unknown) => {
        await this.redis.incr(recordKey(this.config, 'intercepted'));
        return result;
      }),
    );
  }
}

@Injectable()
class Recorder {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: ConsumerProcessConfig,
  ) {}

  @UseInterceptors(CountingInterceptor)
  @OnGatewayEvent(EventType.MessageCreate)
  onMessage(_data: unknown, event: GatewayEvent): Promise<void> {
    return recordEvent(this.redis, this.config, event);
  }
}

const redis = new Redis(config.redisPort, '127.0.0.1', {
  retryStrategy: () => 100,
  maxRetriesPerRequest: null,
});
redis.on('error', () => {});

const source = new RedisEventConsumer({
  redis,
  token: config.token,
  keyPrefix: config.keyPrefix,
  group: config.group,
  consumerName: config.name,
  shardCount: config.shardCount,
  leaseMs: config.leaseMs,
  logger,
});

@Module({
  imports: [GatewayModule.forConsumer({ source, logLevel: 'warn' })],
  providers: [
    { provide: REDIS, useValue: redis },
    { provide: CONFIG, useValue: config },
    CountingInterceptor,
    Recorder,
  ],
})
class ConsumerApp {}

NestFactory.createApplicationContext(ConsumerApp, { logger: false, abortOnError: false })
  .then(async () => {
    await source.waitUntilReady();
    report({ type: 'ready' });
  })
  .catch((error: unknown) => report({ type: 'failed', message: describeError(error) }));

process.on('disconnect', () => process.exit(0));
