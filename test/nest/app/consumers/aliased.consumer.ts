import { Injectable } from '@nestjs/common';
import type { GatewayMessageCreateDispatchData } from 'discord-api-types/v10';
import { EventType, OnGatewayEvent, type GatewayEvent } from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

/** Provided under its class and an alias (useExisting): bound once. */
@Injectable()
export class AliasedConsumer {
  constructor(private readonly log: CallLog) {}

  @OnGatewayEvent(EventType.MessageCreate)
  onMessage(data: GatewayMessageCreateDispatchData, event: GatewayEvent): void {
    this.log.record('AliasedConsumer.onMessage', this, event, [data]);
  }
}

export const ALIASED_CONSUMER_ALIAS = 'ALIASED_CONSUMER_ALIAS';
export const aliasedConsumerProviders = [
  AliasedConsumer,
  { provide: ALIASED_CONSUMER_ALIAS, useExisting: AliasedConsumer },
];
