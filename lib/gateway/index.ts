// The framework-free core (`nestjs-discord-gateway/core`): importing it loads no @nestjs code.
export * from './clock/index.js';
export * from './cluster/index.js';
export * from './codec/index.js';
export * from './config/index.js';
export * from './errors/index.js';
export * from './events/index.js';
export * from './health/index.js';
export {
  consoleLogger,
  isLogLevel,
  loggerAtLevel,
  silentLogger,
  type GatewayLogger,
  type LogLevel,
} from './logger.js';
export * from './queue/index.js';
export * from './rest/index.js';
export * from './session/index.js';
export * from './shard/index.js';
