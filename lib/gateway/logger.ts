import { describeError } from './errors/errors.js';

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
 * and above (default `warn`). An error is printed through {@link describeError} (its stack),
 * never handed to `console.error` as a value: inspecting a hostile value (a throwing getter,
 * a Proxy) would throw out of the logger and from wherever it was called.
 *
 * @param label the name in the prefix, default `'gateway'`: where several processes share one
 *   terminal, a process name (`consoleLogger('warn', 'consumer-a')` writes `[consumer-a] ...`)
 *   tells whose line it is.
 */
export function consoleLogger(level: LogLevel = 'warn', label = 'gateway'): GatewayLogger {
  const prefix = `[${label}]`;
  return loggerAtLevel(
    {
      error: (message, error) =>
        console.error(
          error === undefined
            ? `${prefix} ${message}`
            : `${prefix} ${message}: ${describeError(error, true)}`,
        ),
      warn: (message) => console.warn(`${prefix} ${message}`),
      log: (message) => console.log(`${prefix} ${message}`),
      debug: (message) => console.debug(`${prefix} ${message}`),
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

/** C0 and C1 controls, DEL, Unicode line breaks and bidirectional overrides. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escapeCharacter = (c: string): string =>
  c === '\n'
    ? '\\n'
    : c === '\r'
      ? '\\r'
      : c === '\t'
        ? '\\t'
        : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Text from the network or a file, made safe for one log line: control characters (ANSI
 * escapes, newlines, ...) become visible escapes (`\n`, `\u001b`), so the text can neither
 * forge log lines nor drive a terminal, and it is cut to `maxLength` characters (`...` marks
 * a cut).
 */
export function printable(text: string, maxLength = 120): string {
  const cut = text.length > maxLength;
  const escaped = (cut ? text.slice(0, maxLength) : text).replace(UNPRINTABLE, escapeCharacter);
  return cut ? `${escaped}...` : escaped;
}
