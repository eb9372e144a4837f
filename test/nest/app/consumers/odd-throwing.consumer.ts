import { Injectable } from '@nestjs/common';
import { EventType, OnGatewayEvent, type GatewayEvent } from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

/** Throws and rejects with a value that cannot become a string: a null-prototype object. */
@Injectable()
export class OddThrowingConsumer {
  constructor(private readonly log: CallLog) {}

  @OnGatewayEvent(EventType.MessageCreate)
  throwsOdd(_data: unknown, event: GatewayEvent): void {
    this.log.record('OddThrowingConsumer.throwsOdd', this, event, []);
    throw Object.create(null);
  }

  @OnGatewayEvent(EventType.MessageCreate)
  async rejectsOdd(_data: unknown, event: GatewayEvent): Promise<void> {
    this.log.record('OddThrowingConsumer.rejectsOdd', this, event, []);
    await Promise.resolve();
    throw Object.create(null);
  }

  @OnGatewayEvent(EventType.MessageCreate)
  runsAfter(_data: unknown, event: GatewayEvent): void {
    this.log.record('OddThrowingConsumer.runsAfter', this, event, []);
  }
}
