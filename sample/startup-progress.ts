import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import cliProgress from 'cli-progress';
import { ClusterService, type ClusterProgress } from 'nestjs-discord-gateway';
import { consoleOutput } from './console-output.js';

/** Outside a terminal, a progress line at most this often (ms); the first and last always print. */
const PLAIN_EVERY_MS = 5_000;

/**
 * Shows the cluster's start-up (`ClusterService.progress$`: shards ready of total, the
 * identify queue's ETA) until every shard is Active: a progress bar on a terminal, a plain
 * log line every few seconds otherwise (log files, pipes, containers). Log lines printed
 * meanwhile go above the bar. Both need the `log` level, like the sample's other lines.
 */
@Injectable()
export class StartupProgress implements OnModuleDestroy {
  private readonly logger = new Logger('Sample');
  private bar: cliProgress.MultiBar | null = null;
  private line: cliProgress.SingleBar | null = null;
  private lastPrintAt = -Infinity;
  private pending: ClusterProgress | null = null;
  private plainTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(cluster: ClusterService) {
    const subscription = cluster.progress$.subscribe((progress) => this.show(progress));
    this.unsubscribe = () => subscription.unsubscribe();
  }

  onModuleDestroy(): void {
    this.finish();
  }

  private show(progress: ClusterProgress): void {
    if (!Logger.isLevelEnabled('log')) return;
    if (process.stdout.isTTY) this.draw(progress);
    else this.print(progress);
    if (progress.total > 0 && progress.ready === progress.total) this.finish();
  }

  private draw(progress: ClusterProgress): void {
    const payload = { status: describeEta(progress) };
    if (this.line === null) {
      this.bar = new cliProgress.MultiBar(
        {
          stream: process.stdout,
          format: 'Shards ready [{bar}] {value}/{total} | {status}',
          hideCursor: true,
          barsize: 30,
        },
        cliProgress.Presets.shades_classic,
      );
      consoleOutput.bar = this.bar;
      this.line = this.bar.create(progress.total, progress.ready, payload);
      return;
    }
    this.line.setTotal(progress.total);
    this.line.update(progress.ready, payload);
  }

  private print(progress: ClusterProgress): void {
    const done = progress.total > 0 && progress.ready === progress.total;
    const now = Date.now();
    if (done || now - this.lastPrintAt >= PLAIN_EVERY_MS) {
      this.lastPrintAt = now;
      this.pending = null;
      clearTimeout(this.plainTimer);
      this.plainTimer = undefined;
      this.logger.log(
        `Shards ready ${progress.ready}/${progress.total} | ${describeEta(progress)}`,
      );
      return;
    }
    // A change inside the quiet period is printed at its end, unless a newer one replaces it.
    this.pending = progress;
    this.plainTimer ??= setTimeout(
      () => {
        this.plainTimer = undefined;
        if (this.pending !== null) this.print(this.pending);
      },
      this.lastPrintAt + PLAIN_EVERY_MS - now,
    );
  }

  private finish(): void {
    this.unsubscribe();
    clearTimeout(this.plainTimer);
    this.plainTimer = undefined;
    if (this.bar !== null) {
      consoleOutput.bar = null;
      // stop() draws the bar a last time but not the log lines still waiting for a redraw.
      this.bar.update();
      this.bar.stop();
      this.bar = null;
      this.line = null;
    }
  }
}

function describeEta(progress: ClusterProgress): string {
  if (progress.ready === progress.total && progress.total > 0) return 'every shard Active';
  if (progress.waitingForBudgetResetAt !== null) {
    return `waiting for the daily identify budget to reset at ${new Date(progress.waitingForBudgetResetAt).toLocaleTimeString()}`;
  }
  if (progress.etaMs === null) return 'ETA unknown';
  return `identify queue ETA ${Math.ceil(progress.etaMs / 1000)} s`;
}
