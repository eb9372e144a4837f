import type { LoggerService } from '@nestjs/common';

export interface LogLine {
  readonly level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  readonly message: string;
  readonly context: string | undefined;
  readonly extra: readonly unknown[];
}

/** A Nest logger that keeps every line (all levels) for assertions and prints nothing. */
export class LogCapture implements LoggerService {
  readonly lines: LogLine[] = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.push('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.push('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.push('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.push('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.push('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.push('fatal', message, rest);
  }

  /** Lines of `context` at `level` whose message contains `text`. */
  find(level: LogLine['level'], text: string, context = 'DiscordGateway'): LogLine[] {
    return this.lines.filter(
      (line) => line.level === level && line.context === context && line.message.includes(text),
    );
  }

  /** Everything written, one string, for "never contains" assertions. */
  text(): string {
    return this.lines
      .map((line) => [line.message, ...line.extra.map((item) => String(item))].join(' '))
      .join('\n');
  }

  private push(level: LogLine['level'], message: unknown, rest: unknown[]): void {
    const context =
      typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const extra = context === undefined ? rest : rest.slice(0, -1);
    this.lines.push({ level, message: String(message), context, extra });
  }
}
