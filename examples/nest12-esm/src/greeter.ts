import { Injectable } from '@nestjs/common';
import type { GatewayMessageCreateDispatchData } from 'discord-api-types/v10';
import { ClusterService, OnGatewayEvent, type GatewayEvent } from 'nestjs-discord-gateway';

/** Answers `!status` with a presence update on the shard the message came from. */
@Injectable()
export class Greeter {
  readonly seen: string[] = [];

  constructor(private readonly cluster: ClusterService) {}

  @OnGatewayEvent('MESSAGE_CREATE')
  async onMessage(message: GatewayMessageCreateDispatchData, event: GatewayEvent): Promise<void> {
    this.seen.push(message.content);
    if (message.content !== '!status') return;
    await this.cluster.command(event.shardId, {
      op: 3,
      d: { since: null, status: 'online', afk: false, activities: [{ name: 'status', type: 0 }] },
    });
  }
}
