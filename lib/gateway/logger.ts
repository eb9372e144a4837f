/**
 * Where the core writes its log lines. Nest's `Logger` satisfies it; the Nest module passes
 * one in. Messages never contain the token.
 */
export interface GatewayLogger {
  /** Protocol traces: frames sent and received (opcode level), timers, state changes. */
  debug(message: string): void;
  /** Milestones: connected, READY, RESUMED, shutting down. */
  log(message: string): void;
  /** Survived trouble: a bad frame, a zombie connection, a reconnect. */
  warn(message: string): void;
  /** Failures: a fatal close, a handler that threw. */
  error(message: string, error?: unknown): void;
}

/**
 * How much a logger writes, from quietest: `'error'` failures only; `'warn'` adds survived
 * trouble; `'log'` adds milestones (READY, RESUMED, cluster ready, shutting down); `'debug'`
 * adds protocol traces (several lines per shard at start-up alone).
 */
export type LogLevel = 'error' | 'warn' | 'log' | 'debug';
const LEVELS: readonly LogLevel[] = ['error', 'warn', 'log', 'debug'];

/** Whether `value` is a {@link LogLevel}. */
export function isLogLevel(value: unknown): value is LogLevel {
  return LEVELS.includes(value as LogLevel);
}

/** `logger` with every level below `level` replaced by a no-op. Errors always pass. */
export function loggerAtLevel(logger: GatewayLogger, level: LogLevel): GatewayLogger {
  const rank = LEVELS.indexOf(level);
  const noop = (): void => {};
  return {
    error: (message, error) => logger.error(message, error),
    warn: rank >= 1 ? (message) => logger.warn(message) : noop,
    log: rank >= 2 ? (message) => logger.log(message) : noop,
    debug: rank >= 3 ? (message) => logger.debug(message) : noop,
  };
}

/**
 * The core's default logger: writes to the console with a `[gateway]` prefix, at `level`
 * and above (default `warn`).
 */
export function consoleLogger(level: LogLevel = 'warn'): GatewayLogger {
  return loggerAtLevel(
    {
      error: (message, error) =>
        console.error(`[gateway] ${message}`, ...(error === undefined ? [] : [error])),
      warn: (message) => console.warn(`[gateway] ${message}`),
      log: (message) => console.log(`[gateway] ${message}`),
      debug: (message) => console.debug(`[gateway] ${message}`),
    },
    level,
  );
}

/** A logger that drops everything. */
export const silentLogger: GatewayLogger = {
  debug: () => {},
  log: () => {},
  warn: () => {},
  error: () => {},
};
