import {
  Injectable,
  Logger,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { GatewayMessageCreateDispatchData } from 'discord-api-types/v10';
import { GatewayExecutionContext, OnGatewayEvent } from 'nestjs-discord-gateway';
import { tap, type Observable } from 'rxjs';

/** Lets messages from people through; those of bots and webhooks skip the handler. */
@Injectable()
export class HumansOnly implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const gateway = GatewayExecutionContext.create(context);
    if (gateway.getEventType() !== 'MESSAGE_CREATE') return true;
    const message = gateway.getPayload<'MESSAGE_CREATE'>();
    return !message.author.bot && message.webhook_id === undefined;
  }
}

/** Logs each handler's duration with its event type and shard. */
@Injectable()
export class HandlerTiming implements NestInterceptor {
  private readonly logger = new Logger(HandlerTiming.name);

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const gateway = GatewayExecutionContext.create(context);
    const handler = `${gateway.getClass().name}.${gateway.getHandler().name}`;
    const started = performance.now();
    return next.handle().pipe(
      tap(() => {
        const ms = (performance.now() - started).toFixed(1);
        this.logger.log(
          `${handler}: ${gateway.getEventType()} on shard ${gateway.getShardId()} in ${ms} ms`,
        );
      }),
    );
  }
}

@Injectable()
@UseInterceptors(HandlerTiming)
export class Commands {
  readonly seen: string[] = [];

  @UseGuards(HumansOnly)
  @OnGatewayEvent('MESSAGE_CREATE')
  onMessage(message: GatewayMessageCreateDispatchData): void {
    this.seen.push(message.content);
  }
}
