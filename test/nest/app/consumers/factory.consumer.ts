import type { GatewayMessageCreateDispatchData } from 'discord-api-types/v10';
import { EventType, OnGatewayEvent, type GatewayEvent } from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

/** Built by a useFactory provider (its wrapper's metatype is the factory, not the class). */
export class FactoryConsumer {
  constructor(private readonly log: CallLog) {}

  @OnGatewayEvent(EventType.MessageCreate)
  onMessage(data: GatewayMessageCreateDispatchData, event: GatewayEvent): void {
    this.log.record('FactoryConsumer.onMessage', this, event, [data]);
  }
}

export const FACTORY_CONSUMER = 'FACTORY_CONSUMER';
export const factoryConsumerProvider = {
  provide: FACTORY_CONSUMER,
  useFactory: (log: CallLog) => new FactoryConsumer(log),
  inject: [CallLog],
};
