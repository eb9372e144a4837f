import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Cluster, EventType, type GatewayLogger } from '../gateway/index.js';
import { ClusterService } from './cluster.service.js';
import { GatewayConsumerModule, type GatewayConsumerOptions } from './gateway-consumer.module.js';
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
import {
  CONNECT_ON_BOOTSTRAP_OFF,
  SHUTDOWN_END,
  SHUTDOWN_FAILED,
  SHUTDOWN_HOOKS_MISSING,
  SHUTDOWN_RESUMABLE,
} from './gateway.messages.js';
import { ConfigurableModuleClass, GATEWAY_MODULE_OPTIONS } from './gateway.module-definition.js';
import { resolveGatewayOptions, type ResolvedGatewayOptions } from './gateway.options.js';
import { ShardService } from './shard.service.js';
import { recordBuildLoaded, thisBuildFormat } from './package-builds.js';

// Every app of the module loads this file, so both builds meet here if both are loaded.
recordBuildLoaded(thisBuildFormat);

/** The signals a deployment stops a process with: SIGTERM (process managers), SIGINT (Ctrl+C). */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

function createLogger({ logLevel }: ResolvedGatewayOptions): GatewayLogger {
  return moduleGatewayLogger(new Logger(GATEWAY_LOGGER_CONTEXT), logLevel);
}

function createCluster(
  { clusterOptions, dependencies }: ResolvedGatewayOptions,
  logger: GatewayLogger,
): Cluster {
  return new Cluster(clusterOptions, { ...dependencies, logger });
}

/**
 * The Discord gateway as a Nest module: `GatewayModule.forRoot(options)` or
 * `forRootAsync({ imports, inject, useFactory | useClass | useExisting })`, with `isGlobal`.
 *
 * Lifecycle: options are validated when the module is instantiated (one `ConfigError` lists
 * every problem); handlers are bound in `onModuleInit`; the shards start in
 * `onApplicationBootstrap` (not awaited: use `ClusterService.waitUntilReady()`) unless
 * `connectOnBootstrap` is `false`; they close in `beforeApplicationShutdown` per the
 * `shutdown` policy (GW-GT-2). The `metrics` option measures the cluster from its creation
 * until `onApplicationShutdown`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: GATEWAY_RESOLVED_OPTIONS,
      useFactory: resolveGatewayOptions,
      inject: [GATEWAY_MODULE_OPTIONS],
    },
    { provide: GATEWAY_LOGGER, useFactory: createLogger, inject: [GATEWAY_RESOLVED_OPTIONS] },
    {
      provide: GATEWAY_CLUSTER,
      useFactory: createCluster,
      inject: [GATEWAY_RESOLVED_OPTIONS, GATEWAY_LOGGER],
    },
    GatewayMetadataAccessor,
    GatewayContextCreator,
    GatewayExplorer,
    ClusterService,
    ShardService,
  ],
  exports: [ClusterService, ShardService],
})
export class GatewayModule
  extends ConfigurableModuleClass
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private stopWatchingHooks: (() => void) | undefined;
  private readonly stopMeasuring: (() => void) | undefined;

  constructor(
    @Inject(GATEWAY_CLUSTER) private readonly cluster: Cluster,
    @Inject(GATEWAY_RESOLVED_OPTIONS) private readonly options: ResolvedGatewayOptions,
    @Inject(GATEWAY_LOGGER) private readonly logger: GatewayLogger,
  ) {
    super();
    // Before any hook runs, so the metrics see the whole start (the shards start at bootstrap).
    this.stopMeasuring = options.metrics?.bind(cluster);
  }

  /**
   * Consumer mode: no shard runs in this app; its `@OnGatewayEvent` handlers run on the events
   * gateway processes publish, read from `source` (a `RedisEventConsumer` of
   * `nestjs-discord-gateway/redis`), and `ClusterService` forwards commands to the processes
   * owning the shards. See `GatewayConsumerModule`.
   *
   * @example
   * GatewayModule.forConsumer({ source: new RedisEventConsumer({ redis, group: 'moderation', shardCount: 16 }) })
   * @throws ConfigError listing every invalid option.
   */
  static forConsumer(options: GatewayConsumerOptions): DynamicModule {
    return GatewayConsumerModule.register(options);
  }

  /**
   * Starts the shards after every handler is bound. Bootstrap waits only for what can fail
   * for certain before a shard connects (GET /gateway/bot: a rejected token; the identify
   * budget), so such a failure fails the application's start instead of leaving it running
   * without a gateway. Reaching Active is not awaited: a large bot takes minutes to identify
   * every shard (`ClusterService.waitUntilReady()` waits for it).
   */
  async onApplicationBootstrap(): Promise<void> {
    this.watchShutdownHooks();
    if (!this.options.connectOnBootstrap) {
      this.logger.log(CONNECT_ON_BOOTSTRAP_OFF);
      return;
    }
    // Its failure is logged by the cluster and surfaces through waitUntilStarted/Ready.
    this.cluster.up().catch(() => undefined);
    await this.cluster.waitUntilStarted();
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.stopWatchingHooks?.();
    try {
      if (this.options.shutdown === 'resumable') {
        this.logger.log(SHUTDOWN_RESUMABLE(signal));
        await this.cluster.downResumable();
      } else {
        this.logger.log(SHUTDOWN_END(signal));
        await this.cluster.down();
      }
    } catch (error) {
      this.logger.error(SHUTDOWN_FAILED, error);
    }
  }

  onApplicationShutdown(): void {
    this.stopMeasuring?.();
  }

  /**
   * Sessions are saved only by the shutdown hooks, which Nest installs on signals only after
   * `app.enableShutdownHooks()`. Without them SIGTERM ends the process with nothing saved and
   * the next start identifies every shard again, so the module warns once. The check waits
   * for the first shard to become Active: the usual `createApplicationContext()` then
   * `enableShutdownHooks()` order installs the listeners after bootstrap has already run.
   */
  private watchShutdownHooks(): void {
    if (this.options.shutdown !== 'resumable' || this.stopWatchingHooks !== undefined) return;
    const stop = this.cluster.subscribe([EventType.ShardReady, EventType.ShardResumed], () => {
      stop();
      const unhandled = STOP_SIGNALS.filter((signal) => process.listenerCount(signal) === 0);
      if (unhandled.length > 0) this.logger.warn(SHUTDOWN_HOOKS_MISSING(unhandled));
    });
    this.stopWatchingHooks = stop;
  }
}
