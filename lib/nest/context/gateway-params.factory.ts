import type { ParamData } from '@nestjs/common';
import type { ParamsFactory } from '@nestjs/core';
import type { GatewayEvent } from '../../gateway/index.js';
import { GatewayParamType } from './gateway-paramtype.enum.js';

/**
 * Turns a parameter decorator into its value. `args` are the handler's call arguments,
 * `[data, event]`.
 */
export class GatewayParamsFactory implements ParamsFactory {
  exchangeKeyForValue(type: number, data: ParamData | undefined, args: unknown[]): unknown {
    const event = args[1] as GatewayEvent;
    switch (type) {
      case GatewayParamType.PAYLOAD:
        return typeof data === 'string' && event.data !== null && typeof event.data === 'object'
          ? (event.data as Record<string, unknown>)[data]
          : event.data;
      case GatewayParamType.SHARD_ID:
        return event.shardId;
      case GatewayParamType.CONTEXT:
        return event;
      default:
        return undefined;
    }
  }
}
