import { Controller } from '@nestjs/common';
import type { GatewayGuildCreateDispatchData } from 'discord-api-types/v10';
import { EventType, OnGatewayEvent, type GatewayEvent } from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

/** Handlers on a controller are bound like those on providers. */
@Controller()
export class ControllerConsumer {
  constructor(private readonly log: CallLog) {}

  @OnGatewayEvent(EventType.GuildCreate)
  onGuildCreate(data: GatewayGuildCreateDispatchData, event: GatewayEvent): void {
    this.log.record('ControllerConsumer.onGuildCreate', this, event, [data]);
  }
}
