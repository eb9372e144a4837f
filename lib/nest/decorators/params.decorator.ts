import { assignMetadata, type PipeTransform, type Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { GatewayParamType } from '../context/gateway-paramtype.enum.js';

type Pipe = Type<PipeTransform> | PipeTransform;

function createGatewayParamDecorator(
  type: GatewayParamType,
  data: string | undefined,
  pipes: Pipe[],
): ParameterDecorator {
  return (target, key, index) => {
    if (key === undefined) {
      throw new TypeError(
        'Gateway parameter decorators apply to handler methods, not constructors',
      );
    }
    const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key) ?? {};
    // The positional form: Nest 11 knows only this one, Nest 12 still reads it.
    Reflect.defineMetadata(
      ROUTE_ARGS_METADATA,
      assignMetadata(args, type, index, data, ...pipes),
      target.constructor,
      key,
    );
  };
}

/**
 * The event's data (a dispatch's `d`, or the lifecycle data), or one property of it, run
 * through the given pipes: `@GatewayPayload()`, `@GatewayPayload('content')`,
 * `@GatewayPayload(new ParseMessagePipe())`.
 */
export function GatewayPayload(...pipes: Pipe[]): ParameterDecorator;
export function GatewayPayload(property: string, ...pipes: Pipe[]): ParameterDecorator;
export function GatewayPayload(
  propertyOrPipe?: string | Pipe,
  ...pipes: Pipe[]
): ParameterDecorator {
  return typeof propertyOrPipe === 'string'
    ? createGatewayParamDecorator(GatewayParamType.PAYLOAD, propertyOrPipe, pipes)
    : createGatewayParamDecorator(
        GatewayParamType.PAYLOAD,
        undefined,
        propertyOrPipe === undefined ? pipes : [propertyOrPipe, ...pipes],
      );
}

/** The id of the shard the event arrived on (a number), run through the given pipes. */
export function GatewayShardId(...pipes: Pipe[]): ParameterDecorator {
  return createGatewayParamDecorator(GatewayParamType.SHARD_ID, undefined, pipes);
}

/** The whole `GatewayEvent` (shard id, type, data, sequence), run through the given pipes. */
export function GatewayContext(...pipes: Pipe[]): ParameterDecorator {
  return createGatewayParamDecorator(GatewayParamType.CONTEXT, undefined, pipes);
}
