import type { ExecutionContext, Type } from '@nestjs/common';
import { GatewayArgumentsHost } from './gateway-arguments-host.js';

/**
 * Reads a gateway handler's arguments in guards and interceptors:
 * `GatewayExecutionContext.create(context).getPayload()`. Also names the handler's class
 * and method, as `ExecutionContext` does.
 */
export class GatewayExecutionContext extends GatewayArgumentsHost {
  protected constructor(protected readonly context: ExecutionContext) {
    super(context);
  }

  static override create(context: ExecutionContext): GatewayExecutionContext {
    return new GatewayExecutionContext(context);
  }

  /** The class of the handler. */
  getClass<T = unknown>(): Type<T> {
    return this.context.getClass<T>();
  }

  /** The handler method. */
  getHandler(): ReturnType<ExecutionContext['getHandler']> {
    return this.context.getHandler();
  }
}
