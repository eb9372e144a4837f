import { Injectable } from '@nestjs/common';
import { EventType, OnGatewayEvent, type GatewayEvent } from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

/** One handler throws, one rejects, one runs after them: the last one and the shard go on. */
@Injectable()
export class ThrowingConsumer {
  constructor(private readonly log: CallLog) {}

  @OnGatewayEvent(EventType.MessageCreate)
  throws(_data: unknown, event: GatewayEvent): void {
    this.log.record('ThrowingConsumer.throws', this, event, []);
    throw new Error('sync handler failure');
  }

  @OnGatewayEvent(EventType.MessageCreate)
  async rejects(_data: unknown, event: GatewayEvent): Promise<void> {
    this.log.record('ThrowingConsumer.rejects', this, event, []);
    await Promise.resolve();
    throw new Error('async handler failure');
  }

  @OnGatewayEvent(EventType.MessageCreate)
  runsAfter(_data: unknown, event: GatewayEvent): void {
    this.log.record('ThrowingConsumer.runsAfter', this, event, []);
  }
}
