import { Injectable, Module } from '@nestjs/common';
import { REST } from '@discordjs/rest';
import { Routes, type GatewayMessageCreateDispatchData } from 'discord-api-types/v10';
import { GatewayModule, OnGatewayEvent } from 'nestjs-discord-gateway';

@Injectable()
export class PingCommand {
  constructor(private readonly rest: REST) {}

  @OnGatewayEvent('MESSAGE_CREATE')
  async onMessage(message: GatewayMessageCreateDispatchData): Promise<void> {
    if (message.author.bot || message.content !== '!ping') return;
    await this.rest.post(Routes.channelMessages(message.channel_id), {
      body: { content: 'pong', message_reference: { message_id: message.id } },
    });
  }
}

@Module({
  imports: [
    GatewayModule.forRoot({
      token: process.env.DISCORD_TOKEN!,
      intents: ['Guilds', 'GuildMessages', 'MessageContent'],
    }),
  ],
  providers: [
    PingCommand,
    // The bot's token again; @discordjs/rest adds the "Bot " prefix itself.
    { provide: REST, useFactory: () => new REST().setToken(process.env.DISCORD_TOKEN!) },
  ],
})
export class BotModule {}
