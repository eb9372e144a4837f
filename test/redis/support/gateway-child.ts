import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type {
  GatewayProcessCommand,
  GatewayProcessConfig,
  GatewayProcessReport,
} from './gateway-process.js';

/** One dispatch a gateway process delivered (from its delivered file). */
export interface Delivered {
  readonly shardId: number;
  readonly sequence: number;
  readonly type: string;
  readonly content: string;
}

/**
 * A gateway process ({@link GatewayProcessConfig}) forked from the test; the project's
 * TypeScript runs directly (`--import tsx`).
 */
export class GatewayChild {
  readonly reports: GatewayProcessReport[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined = undefined;
  private waiters: (() => void)[] = [];

  constructor(readonly config: GatewayProcessConfig) {
    // NODE_OPTIONS of the test runner (jest's --experimental-vm-modules) is not the process's.
    const { NODE_OPTIONS: _ignored, ...env } = process.env;
    this.child = fork('test/redis/support/gateway-process.ts', [JSON.stringify(config)], {
      execArgv: ['--import', 'tsx'],
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (report: GatewayProcessReport) => {
      this.reports.push(report);
      this.wake();
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        this.exitCode = code;
        this.wake();
        resolve(code);
      }),
    );
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** Log lines of `level` (all levels when omitted). */
  logs(level?: 'log' | 'warn' | 'error'): string[] {
    return this.reports.flatMap((r) =>
      r.type === 'log' && (level === undefined || r.level === level) ? [r.message] : [],
    );
  }

  /** The first report that `check` accepts, waiting up to `timeoutMs` for it. */
  async waitFor<T>(
    check: (reports: GatewayProcessReport[]) => T | undefined,
    what: string,
    timeoutMs = 60_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = check(this.reports);
      if (found !== undefined) return found;
      if (!this.alive) throw new Error(`gateway process exited (${this.exitCode}) before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no ${what} within ${timeoutMs} ms; logs:\n${this.logs().join('\n')}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once up() resolved (every shard Active); rejects with the report when it failed. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const outcome = await this.settled(timeoutMs);
    if (outcome.type === 'failed') {
      throw new Error(`up() failed: ${outcome.name} ${outcome.code}: ${outcome.message}`);
    }
  }

  /** How up() ended: `ready` or `failed`. */
  settled(
    timeoutMs = 60_000,
  ): Promise<Extract<GatewayProcessReport, { type: 'ready' | 'failed' }>> {
    return this.waitFor(
      (reports) =>
        reports.find(
          (r): r is Extract<GatewayProcessReport, { type: 'ready' | 'failed' }> =>
            r.type === 'ready' || r.type === 'failed',
        ),
      'the end of up()',
      timeoutMs,
    );
  }

  async info(): Promise<Extract<GatewayProcessReport, { type: 'info' }>['shards']> {
    const before = this.reports.length;
    this.send({ type: 'info' });
    const reply = await this.waitFor(
      (reports) =>
        reports
          .slice(before)
          .find((r): r is Extract<GatewayProcessReport, { type: 'info' }> => r.type === 'info'),
      'an info reply',
    );
    return reply.shards;
  }

  /** What the process delivered so far, in order. */
  delivered(): Delivered[] {
    const file = this.config.deliveredFile;
    if (file === undefined) return [];
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const [shardId, sequence, type, content] = line.split('\t');
        return { shardId: Number(shardId), sequence: Number(sequence), type, content };
      });
  }

  /** Kills the process (SIGKILL by default: no shutdown of any kind) and waits for it. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.alive) this.child.kill(signal);
    await this.exited;
  }

  /** Closes the shards resumably and exits; SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<void> {
    if (!this.alive) return;
    this.send({ type: 'downResumable' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private send(command: GatewayProcessCommand): void {
    if (this.alive && this.child.connected) this.child.send(command);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
