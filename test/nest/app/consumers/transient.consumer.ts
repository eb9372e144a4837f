import { Injectable, Scope } from '@nestjs/common';
import type { GatewayMessageCreateDispatchData } from 'discord-api-types/v10';
import { EventType, OnGatewayEvent, type GatewayEvent } from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

/** Transient: the module asks for one instance of its own, as any other consumer would. */
@Injectable({ scope: Scope.TRANSIENT })
export class TransientConsumer {
  static constructed = 0;

  constructor(private readonly log: CallLog) {
    TransientConsumer.constructed += 1;
  }

  @OnGatewayEvent(EventType.MessageCreate)
  onMessage(data: GatewayMessageCreateDispatchData, event: GatewayEvent): void {
    this.log.record('TransientConsumer.onMessage', this, event, [data, this.log]);
  }
}
