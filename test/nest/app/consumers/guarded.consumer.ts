import { Injectable, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import {
  EventType,
  GatewayExecutionContext,
  OnGatewayEvent,
  type GatewayEvent,
} from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

/** Rejects every event; records what it saw of the context. */
@Injectable()
export class RejectingGuard implements CanActivate {
  static seen: { type: string; eventType: string; handler: string }[] = [];

  canActivate(context: ExecutionContext): boolean {
    const gateway = GatewayExecutionContext.create(context);
    RejectingGuard.seen.push({
      type: context.getType(),
      eventType: gateway.getEventType(),
      handler: `${gateway.getClass().name}.${gateway.getHandler().name}`,
    });
    return false;
  }
}

/** Lets every event through. */
@Injectable()
export class AllowingGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

/** A rejecting guard skips its handler only; an allowing one calls it. */
@Injectable()
export class GuardedConsumer {
  constructor(private readonly log: CallLog) {}

  @UseGuards(RejectingGuard)
  @OnGatewayEvent(EventType.MessageCreate)
  rejected(_data: unknown, event: GatewayEvent): void {
    this.log.record('GuardedConsumer.rejected', this, event, []);
  }

  @UseGuards(AllowingGuard)
  @OnGatewayEvent(EventType.MessageCreate)
  allowed(data: unknown, event: GatewayEvent): void {
    this.log.record('GuardedConsumer.allowed', this, event, [data, event]);
  }
}
