import { ConsoleLogger } from '@nestjs/common';
import type { MultiBar } from 'cli-progress';

/**
 * Where log lines go while a progress bar is drawn on the terminal. A line written straight
 * to stdout would land on the bar's own line; the bar's `log()` prints it above the bar
 * instead, at its next redraw.
 */
export const consoleOutput: { bar: MultiBar | null } = { bar: null };

/**
 * Nest's console logger, except that while {@link consoleOutput} holds a progress bar the
 * formatted line is handed to the bar (and nothing is written directly).
 */
export class SampleLogger extends ConsoleLogger {
  protected override formatMessage(...args: Parameters<ConsoleLogger['formatMessage']>): string {
    const line = super.formatMessage(...args);
    const bar = consoleOutput.bar;
    if (bar === null) return line;
    bar.log(line);
    return '';
  }
}
