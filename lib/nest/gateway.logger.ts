import type { Logger } from '@nestjs/common';
import {
  describeError,
  loggerAtLevel,
  type GatewayLogger,
  type LogLevel,
} from '../gateway/index.js';

/**
 * The core's {@link GatewayLogger} on a Nest `Logger`: protocol traces at debug level,
 * milestones at log, survived trouble at warn, failures at error with the error's stack.
 */
export function nestGatewayLogger(logger: Logger): GatewayLogger {
  return {
    debug: (message) => logger.debug(message),
    log: (message) => logger.log(message),
    warn: (message) => logger.warn(message),
    error: (message, error) => {
      if (error === undefined) logger.error(message);
      else logger.error(message, describeError(error, true));
    },
  };
}

/** The module's logger: {@link nestGatewayLogger} on `logger`, quiet below `level`. */
export function moduleGatewayLogger(logger: Logger, level: LogLevel): GatewayLogger {
  return loggerAtLevel(nestGatewayLogger(logger), level);
}
