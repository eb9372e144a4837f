import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { GatewayMessageCreateDispatchData } from 'discord-api-types/v10';
import {
  ClusterService,
  EventType,
  GatewayModule,
  OnGatewayEvent,
  type GatewayEvent,
} from 'nestjs-discord-gateway';
import { FakeGateway } from 'nestjs-discord-gateway/testing';

// The README's "Testing your own bot with FakeGateway" snippet, run as written.
@Injectable()
class MyHandlers {
  readonly messages: { content: string; shardId: number }[] = [];

  @OnGatewayEvent(EventType.MessageCreate)
  onMessage(message: GatewayMessageCreateDispatchData, event: GatewayEvent): void {
    this.messages.push({ content: message.content, shardId: event.shardId });
  }
}

describe('README: testing your own bot with FakeGateway', () => {
  it('runs as documented: the handler gets the message on the shard that owns its guild', async () => {
    const gateway = await FakeGateway.start({
      shards: 2,
      maxConcurrency: 2,
      heartbeatIntervalMs: 1000,
    });
    const moduleRef = await Test.createTestingModule({
      imports: [
        GatewayModule.forRoot({
          token: FakeGateway.defaultToken,
          intents: ['Guilds', 'GuildMessages', 'MessageContent'],
          gatewayUrl: gateway.url,
          apiUrl: gateway.apiUrl,
          // The fake's send window at a 1 s heartbeat: 60_000 * 1_000 / 41_250 ms (see below).
          limits: { commandWindowMs: 1_455 },
        }),
      ],
      providers: [MyHandlers],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    await moduleRef.get(ClusterService).waitUntilReady();

    const guild = gateway.traffic.guilds[0];
    gateway.dispatch('MESSAGE_CREATE', gateway.traffic.messageCreate(guild, 'hi'));
    const handlers = moduleRef.get(MyHandlers);
    await gateway.waitFor(() => handlers.messages.length === 1 || null);
    const owner = moduleRef.get(ClusterService).shardIdForGuild(guild.id);
    expect(handlers.messages).toEqual([{ content: 'hi', shardId: owner }]);

    await moduleRef.close();
    await gateway.stop();
  });
});
