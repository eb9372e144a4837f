import { Inject, Injectable, Logger } from '@nestjs/common';
import { REST } from '@discordjs/rest';
import {
  ActivityType,
  InteractionResponseType,
  MessageFlags,
  Routes,
  type GatewayGuildCreateDispatchData,
  type GatewayInteractionCreateDispatchData,
  type GatewayMessageCreateDispatchData,
  type GatewayReadyDispatchData,
} from 'discord-api-types/v10';
import {
  ClusterService,
  EventType,
  OnGatewayEvent,
  type GatewayEvent,
  type ShardDisconnectedData,
  type ShardReconnectingData,
  type ShardResumedData,
} from 'nestjs-discord-gateway';
import { SAMPLE_CONFIG, type SampleConfig } from './sample.config.js';

/** The sample bot's handlers: one method per event it cares about. */
@Injectable()
export class BotHandlers {
  private readonly logger = new Logger('Bot');
  private readonly rest: REST;

  constructor(
    private readonly cluster: ClusterService,
    @Inject(SAMPLE_CONFIG) config: SampleConfig,
  ) {
    this.rest = new REST({ version: '10', api: config.restApi });
    const token = config.gateway.token;
    this.rest.setToken(typeof token === 'string' ? token.replace(/^Bot /i, '') : token.reveal());
  }

  @OnGatewayEvent(EventType.Ready)
  onReady(ready: GatewayReadyDispatchData, event: GatewayEvent): void {
    this.logger.log(
      `shard ${event.shardId}: READY as ${ready.user.username}, ${ready.guilds.length} guild(s) on the way`,
    );
  }

  @OnGatewayEvent(EventType.ShardResumed)
  onResumed(data: ShardResumedData, event: GatewayEvent): void {
    this.logger.log(
      `shard ${event.shardId}: RESUMED (no IDENTIFY), ${data.replayed} missed dispatch(es) replayed`,
    );
  }

  @OnGatewayEvent(EventType.ShardDisconnected)
  onDisconnected(data: ShardDisconnectedData, event: GatewayEvent): void {
    this.logger.warn(
      `shard ${event.shardId}: disconnected (${data.code ?? 'no close code'}), next: ${data.next}`,
    );
  }

  @OnGatewayEvent(EventType.ShardReconnecting)
  onReconnecting(data: ShardReconnectingData, event: GatewayEvent): void {
    this.logger.log(
      `shard ${event.shardId}: reconnecting in ${data.delayMs} ms (${data.resume ? 'resume' : 'identify'})`,
    );
  }

  @OnGatewayEvent(EventType.ClusterReady)
  onClusterReady(): void {
    this.logger.log(`all ${this.cluster.shardIds.length} shard(s) are active`);
  }

  @OnGatewayEvent(EventType.GuildCreate)
  async onGuildCreate(guild: GatewayGuildCreateDispatchData, event: GatewayEvent): Promise<void> {
    if (guild.unavailable === true || !('name' in guild)) return;
    const name = guild.name;
    const result = await this.cluster.requestGuildMembers(guild.id, { query: '', limit: 0 });
    this.logger.log(
      `shard ${event.shardId}: guild "${name}": ${result.members.length} member(s) in ${result.chunks.length} chunk(s)`,
    );
  }

  @OnGatewayEvent(EventType.MessageCreate)
  async onMessage(message: GatewayMessageCreateDispatchData, event: GatewayEvent): Promise<void> {
    if (message.author.bot) return;
    if (message.content === '!ping') {
      const latency = this.cluster.info().find((shard) => shard.id === event.shardId)
        ?.latency.average;
      const text = `Pong! Gateway latency on shard ${event.shardId}: ${latency === null || latency === undefined ? 'not measured yet' : `${Math.round(latency)} ms`}`;
      await this.rest.post(Routes.channelMessages(message.channel_id), { body: { content: text } });
      this.logger.log(`!ping in ${message.channel_id}: replied "${text}"`);
    } else if (message.content === '!presence') {
      const guildId = message.guild_id;
      const presence = {
        since: null,
        status: 'online' as const,
        afk: false,
        activities: [{ name: `with ${message.author.username}`, type: ActivityType.Playing }],
      };
      if (guildId === undefined) await this.cluster.command(event.shardId, { op: 3, d: presence });
      else await this.cluster.commandForGuild(guildId, { op: 3, d: presence });
      this.logger.log(
        `!presence: shard ${event.shardId} now playing "with ${message.author.username}"`,
      );
    }
  }

  @OnGatewayEvent(EventType.InteractionCreate)
  async onInteraction(interaction: GatewayInteractionCreateDispatchData): Promise<void> {
    await this.rest.post(Routes.interactionCallback(interaction.id, interaction.token), {
      body: {
        type: InteractionResponseType.ChannelMessageWithSource,
        data: { content: 'Hello from nestjs-discord-gateway', flags: MessageFlags.Ephemeral },
      },
    });
  }
}
