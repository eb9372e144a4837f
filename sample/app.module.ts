import { Module, type DynamicModule } from '@nestjs/common';
import { GatewayModule } from 'nestjs-discord-gateway';
import { BotHandlers } from './bot.handlers.js';
import { SAMPLE_CONFIG, type SampleConfig } from './sample.config.js';
import { StatsService } from './stats.service.js';

/** The sample application: the gateway module plus the bot's handlers. */
@Module({})
export class AppModule {
  static register(config: SampleConfig): DynamicModule {
    const configProvider = { provide: SAMPLE_CONFIG, useValue: config };
    return {
      module: AppModule,
      imports: [GatewayModule.forRoot(config.gateway)],
      providers: [configProvider, BotHandlers, StatsService],
    };
  }
}
