import { Injectable } from '@nestjs/common';
import {
  ClusterService,
  EventType,
  OnGatewayEvent,
  type GatewayEvent,
} from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

/**
 * Answers each message with a presence update (op 3, at most 5 per 20 s): past five, the
 * commands queue on the shard, and a shutdown drops them.
 */
@Injectable()
export class PresenceOnMessageConsumer {
  constructor(
    private readonly log: CallLog,
    private readonly cluster: ClusterService,
  ) {}

  @OnGatewayEvent(EventType.MessageCreate)
  async onMessage(_data: unknown, event: GatewayEvent): Promise<void> {
    this.log.record('PresenceOnMessageConsumer.onMessage', this, event, []);
    await this.cluster.command(event.shardId, {
      op: 3,
      d: { since: null, activities: [], status: 'online', afk: false },
    });
  }
}
