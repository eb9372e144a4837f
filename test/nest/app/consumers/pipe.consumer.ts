import { Injectable, type PipeTransform } from '@nestjs/common';
import type { GatewayMessageCreateDispatchData } from 'discord-api-types/v10';
import {
  EventType,
  GatewayContext,
  GatewayPayload,
  GatewayShardId,
  OnGatewayEvent,
  type GatewayEvent,
} from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

/** Transforms a string to upper case. */
@Injectable()
export class UpperCasePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    return value.toUpperCase();
  }
}

/** Parameter decorators in any order, with a transforming pipe on one. */
@Injectable()
export class PipeConsumer {
  constructor(private readonly log: CallLog) {}

  @OnGatewayEvent(EventType.MessageCreate)
  onMessage(
    @GatewayShardId() shardId: number,
    @GatewayPayload('content', UpperCasePipe) content: string,
    @GatewayContext() event: GatewayEvent,
    @GatewayPayload() data: GatewayMessageCreateDispatchData,
  ): void {
    this.log.record('PipeConsumer.onMessage', this, event, [shardId, content, event, data]);
  }
}
