import {
  ForbiddenException,
  Inject,
  Injectable,
  type ArgumentsHost,
  type ContextType,
} from '@nestjs/common';
// File paths rather than the `@nestjs/*/internal` entries: Nest 11 has no such entry, and
// both 11 and 12 ship these files.
import { EXCEPTION_FILTERS_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import type { Controller } from '@nestjs/common/interfaces/controllers/controller.interface.js';
import type { ExceptionFilterMetadata } from '@nestjs/common/interfaces/exceptions/exception-filter-metadata.interface.js';
import { selectExceptionFilterMetadata } from '@nestjs/common/utils/select-exception-filter-metadata.util.js';
import { ExternalContextCreator, ModulesContainer, type ContextId } from '@nestjs/core';
import { GuardsConsumer } from '@nestjs/core/guards/guards-consumer.js';
import { GuardsContextCreator } from '@nestjs/core/guards/guards-context-creator.js';
import { STATIC_CONTEXT } from '@nestjs/core/injector/constants.js';
import { InterceptorsConsumer } from '@nestjs/core/interceptors/interceptors-consumer.js';
import { InterceptorsContextCreator } from '@nestjs/core/interceptors/interceptors-context-creator.js';
import { PipesConsumer } from '@nestjs/core/pipes/pipes-consumer.js';
import { PipesContextCreator } from '@nestjs/core/pipes/pipes-context-creator.js';
import type { NestContainer } from '@nestjs/core/injector/container.js';
import type { RouterProxyCallback } from '@nestjs/core/router/router-proxy.js';
import { ExternalExceptionFilterContext } from '@nestjs/core/exceptions/external-exception-filter-context.js';
import { ExternalExceptionsHandler } from '@nestjs/core/exceptions/external-exceptions-handler.js';
import type { GatewayEvent } from '../../gateway/index.js';
import { GATEWAY_CONTEXT_TYPE } from '../gateway.constants.js';
import { GatewayParamsFactory } from './gateway-params.factory.js';

/** A handler wrapped in the enhancer pipeline. Resolves when it is done; rejects with what no filter caught. */
export type EnhancedGatewayHandler = (data: unknown, event: GatewayEvent) => Promise<unknown>;

/**
 * Runs a matching exception filter and treats its verdict as final, whatever it returns
 * (gateway handlers have no response to produce). What no filter catches is rethrown without
 * Nest's generic log line: the explorer logs it with the handler, event and shard.
 */
class GatewayExceptionsHandler extends ExternalExceptionsHandler {
  private gatewayFilters: ExceptionFilterMetadata[] = [];

  override setCustomFilters(filters: ExceptionFilterMetadata[]): void {
    super.setCustomFilters(filters);
    this.gatewayFilters = filters;
  }

  override async next(exception: Error, host: ArgumentsHost): Promise<unknown> {
    const filter = selectExceptionFilterMetadata(this.gatewayFilters, exception);
    if (!filter) throw exception;
    return filter.func(exception, host);
  }
}

class GatewayExceptionFilterContext extends ExternalExceptionFilterContext {
  override create(
    instance: Controller,
    callback: RouterProxyCallback,
    module: string,
    contextId: ContextId = STATIC_CONTEXT,
    inquirerId?: string,
  ): ExternalExceptionsHandler {
    this.moduleContext = module;
    const handler = new GatewayExceptionsHandler();
    const filters = this.createContext(
      instance,
      callback,
      EXCEPTION_FILTERS_METADATA,
      contextId,
      inquirerId,
    );
    if (filters.length > 0) handler.setCustomFilters(filters.reverse());
    return handler;
  }
}

/**
 * `ExternalContextCreator` whose guard step marks its own rejections, so that a rejecting
 * guard can be told apart from a handler that throws `ForbiddenException` itself.
 */
class GatewayExternalContextCreator extends ExternalContextCreator {
  constructor(
    private readonly guardRejections: WeakSet<object>,
    private readonly gatewayGuardsConsumer: GuardsConsumer,
    ...args: ConstructorParameters<typeof ExternalContextCreator>
  ) {
    super(...args);
  }

  override createGuardsFn<TContext extends string = ContextType>(
    guards: any[],
    instance: Controller,
    callback: (...args: any[]) => any,
    contextType?: TContext,
  ): ((args: unknown[]) => Promise<void>) | null {
    if (guards.length === 0) return null;
    return async (args: unknown[]) => {
      const canActivate = await this.gatewayGuardsConsumer.tryActivate(
        guards,
        args,
        instance,
        callback,
        contextType,
      );
      if (!canActivate) {
        const rejection = new ForbiddenException('Forbidden resource');
        this.guardRejections.add(rejection);
        throw rejection;
      }
    };
  }
}

/**
 * Wraps handlers in Nest's enhancer pipeline (guards, interceptors, pipes, exception filters,
 * parameter decorators), as `@nestjs/microservices` and necord do, with context type
 * `'discord-gateway'`.
 *
 * Only enhancers bound to the handler's class or method apply. App-wide enhancers
 * (`useGlobalGuards()`, `APP_GUARD`, ...) do not: they are written for HTTP requests, and
 * Nest's own microservice transports leave them out of a hybrid app by default too. This
 * also keeps the rule for the direct path simple: no enhancer in sight, no pipeline.
 */
@Injectable()
export class GatewayContextCreator {
  private readonly guardRejections = new WeakSet<object>();
  private readonly paramsFactory = new GatewayParamsFactory();
  private readonly externalContextCreator: ExternalContextCreator;

  constructor(@Inject(ModulesContainer) modulesContainer: ModulesContainer) {
    // The context creators read nothing from the container but its modules; without an
    // application config they contribute no app-wide enhancer (see above).
    const container = { getModules: () => modulesContainer } as unknown as NestContainer;
    const guardsConsumer = new GuardsConsumer();
    this.externalContextCreator = new GatewayExternalContextCreator(
      this.guardRejections,
      guardsConsumer,
      new GuardsContextCreator(container),
      guardsConsumer,
      new InterceptorsContextCreator(container),
      new InterceptorsConsumer(),
      modulesContainer,
      new PipesContextCreator(container),
      new PipesConsumer(),
      new GatewayExceptionFilterContext(container),
    );
  }

  /**
   * The handler `instance[methodKey]` behind its enhancers. `contextId` and `inquirerId`
   * select the instances of request-scoped enhancers.
   */
  create(
    instance: object,
    methodKey: string,
    contextId: ContextId = STATIC_CONTEXT,
    inquirerId?: string,
  ): EnhancedGatewayHandler {
    const method = (instance as Record<string, (...args: unknown[]) => unknown>)[methodKey];
    return this.externalContextCreator.create(
      instance,
      method,
      methodKey,
      ROUTE_ARGS_METADATA,
      this.paramsFactory,
      contextId,
      inquirerId,
      { guards: true, interceptors: true, filters: true },
      GATEWAY_CONTEXT_TYPE,
    );
  }

  /** Whether `error` is a guard's rejection (then the handler was skipped, not failed). */
  isGuardRejection(error: unknown): boolean {
    return typeof error === 'object' && error !== null && this.guardRejections.has(error);
  }
}
