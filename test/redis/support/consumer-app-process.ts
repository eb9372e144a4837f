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
} from '../../../lib/nest/index.js';
import { consumerSource, ipcLogger } from './child-ipc.js';
import type { ConsumerProcessConfig, ConsumerProcessReport } from './consumer-process.js';
import { recordEvent, recordKey } from './record-event.js';

const REDIS = Symbol('redis');
const CONFIG = Symbol('config');

const config = JSON.parse(process.argv[2]) as ConsumerProcessConfig;
const report = (message: ConsumerProcessReport): void => {
  process.send?.(message);
};
const logger = ipcLogger();

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

const { redis, source } = consumerSource(config, logger);

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
