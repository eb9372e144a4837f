import {
  Injectable,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { tap, type Observable } from 'rxjs';
import {
  EventType,
  GatewayExecutionContext,
  OnGatewayEvent,
  type GatewayEvent,
} from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

/** Records before and after the handler, with the handler's result. */
@Injectable()
export class TracingInterceptor implements NestInterceptor {
  static trace: string[] = [];

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const gateway = GatewayExecutionContext.create(context);
    TracingInterceptor.trace.push(
      `before ${context.getType()} ${gateway.getEventType()} shard ${gateway.getShardId()}`,
    );
    return next
      .handle()
      .pipe(tap((result) => TracingInterceptor.trace.push(`after ${String(result)}`)));
  }
}

/** A class-level interceptor around every handler of the class. */
@UseInterceptors(TracingInterceptor)
@Injectable()
export class InterceptorConsumer {
  constructor(private readonly log: CallLog) {}

  @OnGatewayEvent(EventType.MessageCreate)
  onMessage(_data: unknown, event: GatewayEvent): string {
    TracingInterceptor.trace.push('handler');
    this.log.record('InterceptorConsumer.onMessage', this, event, []);
    return 'handled';
  }
}
