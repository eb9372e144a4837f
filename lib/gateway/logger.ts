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

/** Log levels of {@link consoleLogger}, from quietest. */
export type LogLevel = 'error' | 'warn' | 'log' | 'debug';
const LEVELS: readonly LogLevel[] = ['error', 'warn', 'log', 'debug'];

/**
 * The core's default logger: writes to the console with a `[gateway]` prefix, at `level`
 * and above (default `warn`).
 */
export function consoleLogger(level: LogLevel = 'warn'): GatewayLogger {
  const rank = LEVELS.indexOf(level);
  const noop = (): void => {};
  return {
    error:
      rank >= 0
        ? (message, error) =>
            console.error(`[gateway] ${message}`, ...(error === undefined ? [] : [error]))
        : noop,
    warn: rank >= 1 ? (message) => console.warn(`[gateway] ${message}`) : noop,
    log: rank >= 2 ? (message) => console.log(`[gateway] ${message}`) : noop,
    debug: rank >= 3 ? (message) => console.debug(`[gateway] ${message}`) : noop,
  };
}

/** A logger that drops everything. */
export const silentLogger: GatewayLogger = {
  debug: () => {},
  log: () => {},
  warn: () => {},
  error: () => {},
};
