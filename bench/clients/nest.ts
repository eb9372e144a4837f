/**
 * (b) The same through the Nest module: one `@OnGatewayEvent` handler per streamed type (or,
 * filtered, for MESSAGE_CREATE only), called on the direct path (no enhancers); with
 * `metrics`, every call timed by a GatewayMetrics.
 */
import 'reflect-metadata';
import {
  Injectable,
  Module,
  type DynamicModule,
  type INestApplicationContext,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Registry } from 'prom-client';
import { GatewayMetrics } from '../../lib/metrics/index.js';
import { EventType, GatewayModule, OnGatewayEvent, ClusterService } from '../../lib/nest/index.js';
import type { BenchClient, Probe } from '../client-process.js';
import { END_MARKER, type ClientConfig } from '../common.js';
import { clusterOptions } from './cluster.js';

let probe: Probe;

@Injectable()
class AllHandlers {
  @OnGatewayEvent(EventType.MessageCreate)
  onMessage(data: { content?: string }): void {
    probe.onEvent();
    if (data.content === END_MARKER) probe.onEnd();
  }

  @OnGatewayEvent(EventType.PresenceUpdate)
  onPresence(): void {
    probe.onEvent();
  }

  @OnGatewayEvent(EventType.TypingStart)
  onTyping(): void {
    probe.onEvent();
  }

  @OnGatewayEvent(EventType.MessageReactionAdd)
  onReaction(): void {
    probe.onEvent();
  }

  @OnGatewayEvent(EventType.InteractionCreate)
  onInteraction(): void {
    probe.onEvent();
  }

  @OnGatewayEvent(EventType.GuildMemberAdd)
  onMemberAdd(): void {
    probe.onEvent();
  }

  @OnGatewayEvent(EventType.GuildCreate)
  onGuildCreate(): void {
    probe.onEvent();
  }
}

@Injectable()
class MessageHandler {
  @OnGatewayEvent(EventType.MessageCreate)
  onMessage(data: { content?: string }): void {
    probe.onEvent();
    if (data.content === END_MARKER) probe.onEnd();
  }
}

@Module({})
class BenchModule {
  static register(config: ClientConfig): DynamicModule {
    return {
      module: BenchModule,
      imports: [
        GatewayModule.forRoot({
          ...clusterOptions(config),
          shutdown: 'end',
          ...(config.metrics ? { metrics: new GatewayMetrics({ registry: new Registry() }) } : {}),
        }),
      ],
      providers: [config.filtered ? MessageHandler : AllHandlers],
    };
  }
}

export function createClient(config: ClientConfig, benchProbe: Probe): BenchClient {
  probe = benchProbe;
  probe.path = 'nest direct handlers';
  let app: INestApplicationContext | null = null;
  return {
    start: async () => {
      app = await NestFactory.createApplicationContext(BenchModule.register(config), {
        logger: ['error', 'warn'],
      });
      await app.get(ClusterService).waitUntilReady();
    },
    stop: async () => {
      await app?.close();
    },
  };
}
