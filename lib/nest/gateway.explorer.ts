// Imported: the global `performance` is a getter, read again on every call (about 220 of the
// 560 instructions of a global `performance.now()` under callgrind; a timed handler call makes two).
import { performance } from 'node:perf_hooks';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  ContextIdFactory,
  DiscoveryService,
  MetadataScanner,
  ModuleRef,
  type ContextId,
} from '@nestjs/core';
import { Injector } from '@nestjs/core/injector/injector.js';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { Module } from '@nestjs/core/injector/module.js';
import {
  ALL_EVENT_TYPES,
  type EventType,
  EventTypeFlags,
  messageContentMissing,
  missingIntentsFor,
  ShardClosedError,
  type GatewayEvent,
  type GatewayEventSource,
  type GatewayLogger,
} from '../gateway/index.js';
import { GatewayContextCreator } from './context/gateway-context-creator.js';
import { GatewayMetadataAccessor, type AnyFunction } from './gateway-metadata.accessor.js';
import {
  ANY_GATEWAY_EVENT,
  GATEWAY_CLUSTER,
  GATEWAY_LOGGER,
  GATEWAY_RESOLVED_OPTIONS,
} from './gateway.constants.js';
import {
  CATCH_ALL_HANDLERS,
  COMPUTED_EVENT_TYPES,
  EXPLICIT_EVENT_TYPES_EXCLUDE,
  GUARD_REJECTED,
  HANDLER_BOUND,
  HANDLER_COMMAND_DROPPED,
  HANDLER_FAILED,
  MISSING_INTENTS,
  MISSING_MESSAGE_CONTENT,
  REQUEST_SCOPED_HANDLER,
  UNKNOWN_EVENT_TYPE,
  handlerName,
} from './gateway.messages.js';
import type { ResolvedConsumerOptions, ResolvedGatewayOptions } from './gateway.options.js';

/**
 * One bound handler method. `invoke` never throws and never returns a rejected promise; it
 * returns a promise while an async handler runs.
 */
interface HandlerBinding {
  readonly name: string;
  /** The event types it is bound to; empty for a catch-all handler. */
  readonly types: readonly EventType[];
  readonly invoke: (event: GatewayEvent) => PromiseLike<unknown> | undefined;
}

type HandlerMethod = (this: object, data: unknown, event: GatewayEvent) => unknown;
/** Runs one handler for `event`: its result (a promise when it is async); it may throw. */
type HandlerCall = (event: GatewayEvent) => unknown;

const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set(ALL_EVENT_TYPES);
/**
 * Finds `@OnGatewayEvent` methods on providers and controllers and binds them in
 * `onModuleInit`, before any shard connects; derives the decode filter from them and warns
 * about handlers that cannot be called.
 *
 * Delivery: one cluster listener looks the event type up and calls each handler in binding
 * order, synchronously; an async handler is not awaited. Handlers with no enhancer are
 * called directly with `(data, event)`; the others go through {@link GatewayContextCreator};
 * request-scoped ones get an instance per event. Whatever a handler throws or rejects with
 * is logged with its class, method, event and shard, and goes no further.
 */
@Injectable()
export class GatewayExplorer implements OnModuleInit, OnModuleDestroy {
  private readonly injector = new Injector();
  private readonly handlersByType = new Map<string, HandlerBinding[]>();
  private readonly catchAllHandlers: HandlerBinding[] = [];
  private readonly bindings: HandlerBinding[] = [];
  /** One DI context per event, shared by every request-scoped handler of that event. */
  private readonly eventContexts = new WeakMap<GatewayEvent, ContextId>();
  private removeListener: (() => void) | undefined;

  // Each dependency names its token: the module then also runs where no decorator metadata is
  // emitted (tsx, esbuild, swc without it). The other providers of the module do the same.
  constructor(
    @Inject(DiscoveryService) private readonly discoveryService: DiscoveryService,
    @Inject(MetadataScanner) private readonly metadataScanner: MetadataScanner,
    @Inject(GatewayMetadataAccessor) private readonly metadataAccessor: GatewayMetadataAccessor,
    @Inject(GatewayContextCreator) private readonly contextCreator: GatewayContextCreator,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
    @Inject(GATEWAY_CLUSTER) private readonly cluster: GatewayEventSource,
    @Inject(GATEWAY_RESOLVED_OPTIONS)
    private readonly options: ResolvedGatewayOptions | ResolvedConsumerOptions,
    @Inject(GATEWAY_LOGGER) private readonly logger: GatewayLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.explore();
    this.applyEventTypes();
    this.warnAboutIntents();
    this.removeListener = this.cluster.addListener(
      'config' in this.options ? this.dispatch : this.dispatchAwaited,
    );
  }

  onModuleDestroy(): void {
    this.removeListener?.();
    this.removeListener = undefined;
  }

  private readonly dispatch = (event: GatewayEvent): void => {
    const handlers = this.handlersByType.get(event.type);
    if (handlers !== undefined) {
      for (let i = 0; i < handlers.length; i++) handlers[i].invoke(event);
    }
    const catchAll = this.catchAllHandlers;
    for (let i = 0; i < catchAll.length; i++) catchAll[i].invoke(event);
  };

  /** Consumer mode: settles once every handler of the event finished, so it can be acknowledged. */
  private readonly dispatchAwaited = (event: GatewayEvent): Promise<unknown> | undefined => {
    let running: PromiseLike<unknown>[] | undefined;
    const run = (binding: HandlerBinding): void => {
      const result = binding.invoke(event);
      if (result !== undefined) (running ??= []).push(result);
    };
    this.handlersByType.get(event.type)?.forEach(run);
    this.catchAllHandlers.forEach(run);
    return running === undefined ? undefined : Promise.all(running);
  };

  private async explore(): Promise<void> {
    const wrappers: InstanceWrapper[] = [
      ...this.discoveryService.getProviders(),
      ...this.discoveryService.getControllers(),
    ];
    // The same object can sit behind several tokens (useValue, a factory returning an
    // existing instance): its handlers are bound once.
    const explored = new WeakSet<object>();
    for (const wrapper of wrappers) {
      const instance: unknown = wrapper.instance;
      if (wrapper.isAlias || instance === null || typeof instance !== 'object') continue;
      const prototype: object | null = Object.getPrototypeOf(instance);
      if (prototype === null || explored.has(instance)) continue;
      explored.add(instance);
      const methodKeys = this.metadataScanner
        .getAllMethodNames(prototype)
        .filter((key) =>
          this.metadataAccessor.getEventSelectors((instance as Record<string, AnyFunction>)[key]),
        );
      if (methodKeys.length === 0) continue;
      if (!wrapper.isDependencyTreeStatic()) {
        for (const key of methodKeys) this.bindRequestScoped(wrapper, instance, key);
      } else {
        // A transient provider has no instance of its own until someone asks: the explorer
        // asks once, like any other consumer.
        const target = wrapper.isTransient
          ? ((await this.moduleRef.resolve(wrapper.token, undefined, { strict: false })) as object)
          : instance;
        for (const key of methodKeys) this.bindStatic(target, key);
      }
    }
  }

  private bindStatic(instance: object, methodKey: string): void {
    const name = handlerName(instance.constructor.name, methodKey);
    if (this.metadataAccessor.usesEnhancers(instance, methodKey)) {
      const handler = this.contextCreator.create(instance, methodKey);
      this.register(instance, methodKey, name, 'enhancers', (event) => handler(event.data, event));
      return;
    }
    const method = (instance as Record<string, HandlerMethod>)[methodKey];
    this.register(instance, methodKey, name, 'direct', (event) =>
      method.call(instance, event.data, event),
    );
  }

  private bindRequestScoped(wrapper: InstanceWrapper, instance: object, methodKey: string): void {
    const name = handlerName(instance.constructor.name, methodKey);
    const enhanced = this.metadataAccessor.usesEnhancers(instance, methodKey);
    this.logger.debug(REQUEST_SCOPED_HANDLER(name));
    this.register(instance, methodKey, name, 'request-scoped', (event) =>
      this.invokeRequestScoped(wrapper, methodKey, enhanced, event),
    );
  }

  /**
   * The delivery of one handler: `call` runs it (returning a promise when it is async, or
   * throwing); whatever it throws or rejects with goes to {@link fail}. With the `metrics`
   * option, each call is also timed until its promise settled.
   */
  private invoker(
    name: string,
    call: HandlerCall,
  ): (event: GatewayEvent) => PromiseLike<unknown> | undefined {
    const metrics = this.options.metrics;
    if (metrics === null) {
      return (event) => {
        let result: unknown;
        try {
          result = call(event);
        } catch (error) {
          this.fail(name, event, error);
          return undefined;
        }
        return isThenable(result)
          ? result.then(undefined, (error: unknown) => this.fail(name, event, error))
          : undefined;
      };
    }
    const record = metrics.handlerTimer(name);
    return (event) => {
      const start = performance.now();
      let result: unknown;
      try {
        result = call(event);
      } catch (error) {
        record((performance.now() - start) / 1000, this.fail(name, event, error));
        return undefined;
      }
      if (!isThenable(result)) {
        record((performance.now() - start) / 1000, false);
        return undefined;
      }
      return result.then(
        () => record((performance.now() - start) / 1000, false),
        (error: unknown) =>
          record((performance.now() - start) / 1000, this.fail(name, event, error)),
      );
    };
  }

  private async invokeRequestScoped(
    wrapper: InstanceWrapper,
    methodKey: string,
    enhanced: boolean,
    event: GatewayEvent,
  ): Promise<unknown> {
    const contextId = this.contextIdOf(event);
    const host = wrapper.host as Module;
    const collection = host.controllers.has(wrapper.token) ? host.controllers : host.providers;
    const instance = (await this.injector.loadPerContext(
      wrapper.instance,
      host,
      collection,
      contextId,
      wrapper,
    )) as Record<string, HandlerMethod>;
    if (enhanced) {
      return this.contextCreator.create(
        instance,
        methodKey,
        contextId,
        wrapper.id,
      )(event.data, event);
    }
    return instance[methodKey].call(instance, event.data, event);
  }

  /** The event is the request of its DI context (`@Inject(REQUEST)` receives it). */
  private contextIdOf(event: GatewayEvent): ContextId {
    let contextId = this.eventContexts.get(event);
    if (contextId === undefined) {
      contextId = ContextIdFactory.getByRequest(event);
      // A durable tree's context carries the payload its strategy chose as the request.
      const request = contextId.getParent ? contextId.payload : event;
      this.moduleRef.registerRequestByContextId(request, contextId);
      this.eventContexts.set(event, contextId);
    }
    return contextId;
  }

  private register(
    instance: object,
    methodKey: string,
    name: string,
    path: 'direct' | 'enhancers' | 'request-scoped',
    call: HandlerCall,
  ): void {
    const invoke = this.invoker(name, call);
    const selectors = this.metadataAccessor.getEventSelectors(
      (instance as Record<string, AnyFunction>)[methodKey],
    )!;
    if (selectors.includes(ANY_GATEWAY_EVENT)) {
      const binding: HandlerBinding = { name, types: [], invoke };
      this.catchAllHandlers.push(binding);
      this.bindings.push(binding);
      this.logger.debug(HANDLER_BOUND(name, [ANY_GATEWAY_EVENT], path));
      return;
    }
    const types = [...new Set(selectors as EventType[])];
    const binding: HandlerBinding = { name, types, invoke };
    for (const type of types) {
      if (!KNOWN_EVENT_TYPES.has(type)) this.logger.warn(UNKNOWN_EVENT_TYPE(name, type));
      const handlers = this.handlersByType.get(type);
      if (handlers === undefined) this.handlersByType.set(type, [binding]);
      else handlers.push(binding);
    }
    this.bindings.push(binding);
    this.logger.debug(HANDLER_BOUND(name, types, path));
  }

  /** Logs what a handler threw or rejected with; returns whether it counts as a handler failure. */
  private fail(name: string, event: GatewayEvent, error: unknown): boolean {
    if (this.contextCreator.isGuardRejection(error)) {
      this.logger.debug(GUARD_REJECTED(name, event.type, event.shardId));
      return false;
    }
    if (error instanceof ShardClosedError) {
      // The shard was closed on purpose (shutdown, close()): commands still queued on it are
      // dropped, which is no handler bug. A fatal close has logged its own error already.
      this.logger.debug(HANDLER_COMMAND_DROPPED(name, event.type, event.shardId));
      return false;
    }
    this.logger.error(HANDLER_FAILED(name, event.type, event.shardId), error);
    return true;
  }

  /** The decode filter: what the handlers ask for, unless `eventTypes` was configured. */
  private applyEventTypes(): void {
    const handledTypes = [...this.handlersByType.keys()].filter((type) =>
      KNOWN_EVENT_TYPES.has(type),
    ) as EventType[];
    if (this.options.explicitEventTypes) {
      const configured = this.cluster.eventTypes;
      for (const { name, types } of this.bindings) {
        for (const type of types) {
          if (KNOWN_EVENT_TYPES.has(type) && !EventTypeFlags.has(configured, type)) {
            this.logger.warn(EXPLICIT_EVENT_TYPES_EXCLUDE(name, type));
          }
        }
      }
      return;
    }
    if (this.catchAllHandlers.length > 0) {
      this.cluster.eventTypes = EventTypeFlags.ALL;
      this.logger.log(CATCH_ALL_HANDLERS(this.catchAllHandlers.map(({ name }) => name)));
      return;
    }
    this.cluster.eventTypes = EventTypeFlags.of(...handledTypes);
    this.logger.log(COMPUTED_EVENT_TYPES(EventTypeFlags.toTypes(this.cluster.eventTypes)));
  }

  /** Warns about handlers Discord will not feed (docs/protocol.md section 17). */
  private warnAboutIntents(): void {
    // Consumer mode: the gateway processes' intents are theirs to check.
    if (!('config' in this.options)) return;
    const intents = this.options.config.intents;
    for (const { name, types } of this.bindings) {
      for (const type of types) {
        const missing = missingIntentsFor(type, intents);
        if (missing.length > 0) this.logger.warn(MISSING_INTENTS(name, type, missing));
        else if (messageContentMissing(type, intents)) {
          this.logger.warn(MISSING_MESSAGE_CONTENT(name, type));
        }
      }
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
