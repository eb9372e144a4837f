import {
  Inject,
  Logger,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import {
  ConfigError,
  isLogLevel,
  type ConfigIssue,
  type GatewayEventSource,
  type GatewayLogger,
  type LogLevel,
} from '../gateway/index.js';
import { ClusterService } from './cluster.service.js';
import { GatewayContextCreator } from './context/gateway-context-creator.js';
import { GatewayMetadataAccessor } from './gateway-metadata.accessor.js';
import {
  GATEWAY_CLUSTER,
  GATEWAY_LOGGER,
  GATEWAY_LOGGER_CONTEXT,
  GATEWAY_RESOLVED_OPTIONS,
} from './gateway.constants.js';
import { GatewayExplorer } from './gateway.explorer.js';
import { moduleGatewayLogger } from './gateway.logger.js';
import { RULE_LOG_LEVEL } from './gateway.messages.js';
import type { ResolvedConsumerOptions } from './gateway.options.js';

/** Options of `GatewayModule.forConsumer()`. */
export interface GatewayConsumerOptions {
  /**
   * Where the events come from: a `RedisEventConsumer` of `nestjs-discord-gateway/redis`
   * (`new RedisEventConsumer({ redis, group, shardCount })`), or any {@link GatewayEventSource}.
   */
  readonly source: GatewayEventSource;
  /** Lowest level the module logs at. Default `'log'`. */
  readonly logLevel?: LogLevel;
  /** Registers the module globally. Default `false`. */
  readonly isGlobal?: boolean;
}

const METHODS = ['addListener', 'subscribe', 'up', 'down', 'command'] as const;

/**
 * The module in consumer mode (see `GatewayModule.forConsumer`): the `@OnGatewayEvent`
 * handlers of the app run on the events of `source`, through the same guards, pipes,
 * interceptors and filters; each event is acknowledged once its handlers finished. The source
 * starts in `onApplicationBootstrap` (awaited: a Redis that cannot be reached fails the start)
 * and stops in `beforeApplicationShutdown`, after the handlers of its current batch.
 */
@Module({})
export class GatewayConsumerModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(GATEWAY_CLUSTER) private readonly source: GatewayEventSource,
    @Inject(GATEWAY_LOGGER) private readonly logger: GatewayLogger,
  ) {}

  /** @throws ConfigError listing every invalid option. */
  static register(options: GatewayConsumerOptions): DynamicModule {
    const issues: ConfigIssue[] = [];
    const source = (options ?? {}).source as unknown as Record<string, unknown> | undefined;
    if (
      typeof source !== 'object' ||
      source === null ||
      !METHODS.every((name) => typeof source[name] === 'function')
    ) {
      issues.push({ path: 'source', rule: 'must be a GatewayEventSource (a RedisEventConsumer)' });
    }
    if (options?.logLevel !== undefined && !isLogLevel(options.logLevel)) {
      issues.push({ path: 'logLevel', rule: RULE_LOG_LEVEL });
    }
    if (issues.length > 0) throw new ConfigError(issues);
    const resolved: ResolvedConsumerOptions = {
      logLevel: options.logLevel ?? 'log',
      metrics: null,
      explicitEventTypes: false,
    };
    return {
      module: GatewayConsumerModule,
      global: options.isGlobal ?? false,
      imports: [DiscoveryModule],
      providers: [
        { provide: GATEWAY_RESOLVED_OPTIONS, useValue: resolved },
        {
          provide: GATEWAY_LOGGER,
          useValue: moduleGatewayLogger(new Logger(GATEWAY_LOGGER_CONTEXT), resolved.logLevel),
        },
        { provide: GATEWAY_CLUSTER, useValue: options.source },
        GatewayMetadataAccessor,
        GatewayContextCreator,
        GatewayExplorer,
        ClusterService,
      ],
      exports: [ClusterService],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.source.up();
  }

  async beforeApplicationShutdown(): Promise<void> {
    try {
      await this.source.down();
    } catch (error) {
      this.logger.error('The event source did not stop cleanly', error);
    }
  }
}
