export * from '../gateway/index.js';
export { ClusterService, type GatewayCommand } from './cluster.service.js';
export { GatewayArgumentsHost } from './context/gateway-arguments-host.js';
export { GatewayExecutionContext } from './context/gateway-execution-context.js';
export {
  OnAnyGatewayEvent,
  OnGatewayEvent,
  type GatewayEventMethodDecorator,
} from './decorators/on-gateway-event.decorator.js';
export { GatewayContext, GatewayPayload, GatewayShardId } from './decorators/params.decorator.js';
export { GATEWAY_CONTEXT_TYPE } from './gateway.constants.js';
export { GatewayModule } from './gateway.module.js';
export { GatewayConsumerModule, type GatewayConsumerOptions } from './gateway-consumer.module.js';
export { nestGatewayLogger } from './gateway.logger.js';
export {
  GATEWAY_MODULE_OPTIONS,
  type GatewayModuleAsyncOptions,
  type GatewayModuleForRootOptions,
  type GatewayOptionsFactory,
} from './gateway.module-definition.js';
export type {
  GatewayEventHandler,
  GatewayEventSelector,
} from './interfaces/gateway-event-handler.interface.js';
export type {
  GatewayDependencies,
  GatewayModuleOptions,
  GatewayNestOptions,
  GatewayShutdownPolicy,
} from './interfaces/gateway-module-options.interface.js';
export type { ShardView } from './interfaces/shard-view.interface.js';
export { ShardService } from './shard.service.js';
