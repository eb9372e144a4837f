import { fork, type ChildProcess } from 'node:child_process';
import type { ConsumerProcessConfig, ConsumerProcessReport } from './consumer-process.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A consumer process ({@link ConsumerProcessConfig}) forked from the test; the project's
 * TypeScript runs directly (`--import tsx`). `script` selects the process: the plain
 * `RedisEventConsumer` one (default) or a Nest app in consumer mode.
 */
export class ConsumerChild {
  readonly reports: ConsumerProcessReport[] = [];
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(
    readonly config: ConsumerProcessConfig,
    script = 'test/redis/support/consumer-process.ts',
  ) {
    // NODE_OPTIONS of the test runner (jest's --experimental-vm-modules) is not the process's.
    const { NODE_OPTIONS: _ignored, ...env } = process.env;
    this.child = fork(script, [JSON.stringify(config)], {
      execArgv: ['--import', 'tsx'],
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (report: ConsumerProcessReport) => this.reports.push(report));
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
  }

  /** Log lines of `level`. */
  logs(level: 'log' | 'warn' | 'error'): string[] {
    return this.reports.flatMap((r) => (r.type === 'log' && r.level === level ? [r.message] : []));
  }

  /** Resolves once the consumer started reading; rejects when it failed or took over 60 s. */
  async ready(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const done = this.reports.find((r) => r.type === 'ready' || r.type === 'failed');
      if (done?.type === 'ready') return;
      if (done?.type === 'failed') throw new Error(`consumer failed: ${done.message}`);
      await sleep(50);
    }
    throw new Error('consumer not ready within 60 s');
  }

  /** SIGKILL (no shutdown of any kind), then waits for the exit. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
