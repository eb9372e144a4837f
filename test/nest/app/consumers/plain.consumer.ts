import { Injectable } from '@nestjs/common';
import type { GatewayMessageCreateDispatchData } from 'discord-api-types/v10';
import { EventType, OnGatewayEvent, type GatewayEvent } from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

/** A plain provider: called directly with (data, event). */
@Injectable()
export class PlainConsumer {
  constructor(private readonly log: CallLog) {}

  @OnGatewayEvent(EventType.MessageCreate)
  onMessage(data: GatewayMessageCreateDispatchData, event: GatewayEvent): void {
    this.log.record('PlainConsumer.onMessage', this, event, [data, event]);
  }
}
