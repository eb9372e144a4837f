import { Inject, Injectable } from '@nestjs/common';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { GATEWAY_EVENT_METADATA } from './gateway.constants.js';
import type { GatewayEventSelector } from './interfaces/gateway-event-handler.interface.js';

/** A method as stored in metadata. */
export type AnyFunction = (...args: any[]) => unknown;

const ENHANCER_KEYS = [
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  EXCEPTION_FILTERS_METADATA,
] as const;

/** Typed reads of the metadata that `@OnGatewayEvent` and Nest's enhancer decorators leave. */
@Injectable()
export class GatewayMetadataAccessor {
  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}

  /** The event selectors of a method, in decorator order, or `undefined` when it handles none. */
  getEventSelectors(method: AnyFunction): readonly GatewayEventSelector[] | undefined {
    return this.reflector.get<GatewayEventSelector[] | undefined>(GATEWAY_EVENT_METADATA, method);
  }

  /**
   * Whether `instance[methodKey]` needs the enhancer pipeline: a guard, interceptor, pipe or
   * exception filter on the method or its class, or a parameter decorator on the method.
   */
  usesEnhancers(instance: object, methodKey: string): boolean {
    const method = (instance as Record<string, AnyFunction>)[methodKey];
    const host = instance.constructor;
    for (const key of ENHANCER_KEYS) {
      if (
        isNonEmpty(this.reflector.get(key, method)) ||
        isNonEmpty(this.reflector.get(key, host))
      ) {
        return true;
      }
    }
    const params: object | undefined = Reflect.getMetadata(ROUTE_ARGS_METADATA, host, methodKey);
    return params !== undefined && Object.keys(params).length > 0;
  }
}

function isNonEmpty(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}
