import {
  Catch,
  Injectable,
  UseFilters,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import {
  EventType,
  GatewayArgumentsHost,
  OnGatewayEvent,
  type GatewayEvent,
} from '../../../../lib/nest/index.js';
import { CallLog } from '../call-log.js';

export class CommandFailedError extends Error {}

/** Catches CommandFailedError from gateway handlers; records what it saw. */
@Catch(CommandFailedError)
export class CommandFailedFilter implements ExceptionFilter {
  static caught: { message: string; type: string; gateway: boolean; shardId: number }[] = [];

  catch(exception: CommandFailedError, host: ArgumentsHost): void {
    const gateway = GatewayArgumentsHost.create(host);
    CommandFailedFilter.caught.push({
      message: exception.message,
      type: host.getType(),
      gateway: GatewayArgumentsHost.isGateway(host),
      shardId: gateway.getShardId(),
    });
  }
}

/** Throws an error its filter catches, and one no filter catches. */
@UseFilters(CommandFailedFilter)
@Injectable()
export class FilterConsumer {
  constructor(private readonly log: CallLog) {}

  @OnGatewayEvent(EventType.MessageCreate)
  caught(_data: unknown, event: GatewayEvent): void {
    this.log.record('FilterConsumer.caught', this, event, []);
    throw new CommandFailedError('handled by the filter');
  }

  @OnGatewayEvent(EventType.MessageCreate)
  uncaught(_data: unknown, event: GatewayEvent): void {
    this.log.record('FilterConsumer.uncaught', this, event, []);
    throw new RangeError('no filter for this one');
  }
}
