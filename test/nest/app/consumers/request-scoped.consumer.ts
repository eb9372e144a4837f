import { Inject, Injectable, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import type { GatewayMessageCreateDispatchData } from 'discord-api-types/v10';
import { EventType, OnGatewayEvent, type GatewayEvent } from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

let constructed = 0;

/** A request-scoped dependency: one instance per event, shared by that event's handlers. */
@Injectable({ scope: Scope.REQUEST })
export class EventScopedCounter {
  readonly serial = ++constructed;
}

/** Request-scoped: a new instance per event, whose REQUEST is the event. */
@Injectable({ scope: Scope.REQUEST })
export class RequestScopedConsumer {
  constructor(
    @Inject(REQUEST) readonly request: GatewayEvent,
    readonly counter: EventScopedCounter,
    private readonly log: CallLog,
  ) {}

  @OnGatewayEvent(EventType.MessageCreate)
  onMessage(data: GatewayMessageCreateDispatchData, event: GatewayEvent): void {
    this.log.record('RequestScopedConsumer.onMessage', this, event, [
      data,
      event,
      this.request,
      this.counter,
    ]);
  }

  @OnGatewayEvent(EventType.MessageCreate)
  alsoOnMessage(_data: GatewayMessageCreateDispatchData, event: GatewayEvent): void {
    this.log.record('RequestScopedConsumer.alsoOnMessage', this, event, [this.counter]);
  }
}
