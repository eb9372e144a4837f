import { Module, type DynamicModule } from '@nestjs/common';
import { ClusterService, GatewayModule } from 'nestjs-discord-gateway';
import { BotHandlers } from './bot.handlers.js';
import { SAMPLE_CONFIG, type SampleConfig } from './sample.config.js';
import { StartupProgress } from './startup-progress.js';
import { StatsService } from './stats.service.js';

const STARTUP_ABORT = Symbol('STARTUP_ABORT');

/** The sample application: the gateway module, the bot's handlers, stats and start-up progress. */
@Module({})
export class AppModule {
  /**
   * @param startup aborting it during startup takes the cluster down, which cancels the
   *   `GET /gateway/bot` retries and closes any shard already connecting; the application
   *   context then fails to start with the abort.
   */
  static register(config: SampleConfig, startup?: AbortSignal): DynamicModule {
    const configProvider = { provide: SAMPLE_CONFIG, useValue: config };
    // Instantiated before the shards start (onApplicationBootstrap), so it is in place in time.
    const startupAbort = {
      provide: STARTUP_ABORT,
      inject: [ClusterService],
      useFactory: (cluster: ClusterService): null => {
        const abort = (): void => void cluster.downResumable().catch(() => {});
        if (startup?.aborted) abort();
        else startup?.addEventListener('abort', abort, { once: true });
        return null;
      },
    };
    return {
      module: AppModule,
      imports: [GatewayModule.forRoot(config.gateway)],
      providers: [configProvider, startupAbort, BotHandlers, StatsService, StartupProgress],
    };
  }
}
