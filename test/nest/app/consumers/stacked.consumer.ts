import { Injectable } from '@nestjs/common';
import { EventType, OnGatewayEvent, type GatewayEvent } from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

/** Several decorators, several types, overlapping: one call per event. */
@Injectable()
export class StackedConsumer {
  constructor(private readonly log: CallLog) {}

  @OnGatewayEvent(EventType.MessageCreate)
  @OnGatewayEvent(EventType.MessageCreate, EventType.TypingStart)
  onMessageOrTyping(_data: unknown, event: GatewayEvent): void {
    this.log.record('StackedConsumer.onMessageOrTyping', this, event, []);
  }
}
