import { Injectable } from '@nestjs/common';
import {
  OnAnyGatewayEvent,
  OnGatewayEvent,
  type GatewayEvent,
} from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

/** Every event; turns the decode filter off. */
@Injectable()
export class CatchAllConsumer {
  constructor(private readonly log: CallLog) {}

  @OnAnyGatewayEvent()
  onAny(_data: unknown, event: GatewayEvent): void {
    this.log.record('CatchAllConsumer.onAny', this, event, []);
  }

  @OnGatewayEvent('*')
  onStar(_data: unknown, event: GatewayEvent): void {
    this.log.record('CatchAllConsumer.onStar', this, event, []);
  }
}
