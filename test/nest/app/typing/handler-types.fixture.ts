// Compiled by typing.spec.ts: each `@ts-expect-error` must be an error, everything else must
// compile. Not executed.
import type {
  GatewayGuildCreateDispatchData,
  GatewayMessageCreateDispatchData,
} from 'discord-api-types/v10';
import {
  ClusterService,
  EventType,
  GatewayContext,
  GatewayPayload,
  GatewayShardId,
  OnAnyGatewayEvent,
  OnGatewayEvent,
  type GatewayEvent,
  type ShardReadyData,
} from '../../../../lib/nest/index.js';

export class HandlerTypes {
  @OnGatewayEvent(EventType.MessageCreate)
  payloadAndEvent(data: GatewayMessageCreateDispatchData, event: GatewayEvent): void {
    void data.content;
    void event.shardId;
  }

  @OnGatewayEvent(EventType.MessageCreate)
  noParameters(): void {}

  @OnGatewayEvent(EventType.MessageCreate)
  async asyncHandler(data: GatewayMessageCreateDispatchData): Promise<void> {
    void data.author.id;
  }

  @OnGatewayEvent(EventType.ShardReady)
  lifecycle(data: ShardReadyData): void {
    void data.sessionId;
  }

  @OnGatewayEvent(EventType.MessageCreate, EventType.GuildCreate)
  several(data: GatewayMessageCreateDispatchData | GatewayGuildCreateDispatchData): void {
    void data.id;
  }

  @OnGatewayEvent(EventType.MessageCreate)
  @OnGatewayEvent(EventType.GuildCreate)
  stacked(data: GatewayMessageCreateDispatchData | GatewayGuildCreateDispatchData): void {
    void data.id;
  }

  @OnGatewayEvent(EventType.MessageCreate)
  decorated(
    @GatewayShardId() shardId: number,
    @GatewayPayload('content') content: string,
    @GatewayContext() event: GatewayEvent,
  ): void {
    void shardId;
    void content;
    void event;
  }

  @OnGatewayEvent('MESSAGE_CREATE')
  stringName(data: GatewayMessageCreateDispatchData, event: GatewayEvent): void {
    void data.content;
    void event.shardId;
  }

  @OnGatewayEvent('MESSAGE_CREATE', EventType.GuildCreate)
  stringAndMember(data: GatewayMessageCreateDispatchData | GatewayGuildCreateDispatchData): void {
    void data.id;
  }

  @OnGatewayEvent('SHARD_READY')
  lifecycleString(data: ShardReadyData): void {
    void data.sessionId;
  }

  @OnAnyGatewayEvent()
  catchAll(data: unknown, event: GatewayEvent): void {
    void data;
    void event;
  }

  // @ts-expect-error the payload of MESSAGE_CREATE is no guild
  @OnGatewayEvent(EventType.MessageCreate)
  wrongPayload(data: GatewayGuildCreateDispatchData): void {
    void data;
  }

  // @ts-expect-error one of the two types does not fit
  @OnGatewayEvent(EventType.MessageCreate, EventType.GuildCreate)
  tooNarrow(data: GatewayMessageCreateDispatchData): void {
    void data;
  }

  // @ts-expect-error the second parameter receives the event
  @OnGatewayEvent(EventType.MessageCreate)
  wrongSecond(data: GatewayMessageCreateDispatchData, event: GatewayGuildCreateDispatchData): void {
    void data;
    void event;
  }

  // @ts-expect-error a string name types the payload as strictly as the member
  @OnGatewayEvent('MESSAGE_CREATE')
  wrongPayloadByString(data: GatewayGuildCreateDispatchData): void {
    void data;
  }

  // @ts-expect-error no event has this name
  @OnGatewayEvent('MESSAGE_CREATED')
  unknownName(data: unknown): void {
    void data;
  }
}

export function eventsByName(cluster: ClusterService): void {
  cluster.events$('MESSAGE_CREATE', EventType.GuildCreate).subscribe((event) => {
    if (event.type === EventType.MessageCreate) void event.data.content;
    else void event.data.joined_at;
  });
}
