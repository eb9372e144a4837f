/**
 * The orchestrator's handles on the processes of a run: the FakeGateway process and the
 * client processes (each client alone in its own process, so its CPU time and memory are its
 * own), optionally under callgrind.
 */
import { execFile, fork, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type {
  ClientConfig,
  ClientReport,
  GatewayCommand,
  GatewayReply,
  GatewayStart,
  OrchestratorMessage,
} from './common.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const run = promisify(execFile);

export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux when it cannot say). */
const TICKS_PER_SECOND = ((): number => {
  const answer = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
  return Number.isInteger(answer) && answer > 0 ? answer : 100;
})();

/**
 * CPU time (user + system, all threads) a process has used so far, in ms, from
 * `/proc/<pid>/stat` (fields 14 and 15): also for processes that cannot report it themselves
 * (redis-server). Its resolution is one clock tick (10 ms at 100 ticks per second).
 */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its ')' are space-separated,
  // starting at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[14 - 3]) + Number(fields[15 - 3])) * 1000) / TICKS_PER_SECOND;
}

export class GatewayProcess {
  private readonly child: ChildProcess;
  private waiting: ((reply: GatewayReply) => void) | null = null;

  private constructor() {
    this.child = fork(`${here}gateway-process.js`, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (reply: GatewayReply) => {
      const waiting = this.waiting;
      this.waiting = null;
      waiting?.(reply);
    });
  }

  /** A FakeGateway process, started with `settings`. */
  static async start(
    settings: Omit<GatewayStart, 'type'>,
  ): Promise<{ gateway: GatewayProcess; started: Extract<GatewayReply, { type: 'started' }> }> {
    const gateway = new GatewayProcess();
    const started = await gateway.request({ type: 'start', ...settings });
    if (started.type !== 'started') throw new Error('gateway did not start');
    return { gateway, started };
  }

  request(command: GatewayCommand): Promise<GatewayReply> {
    return new Promise((resolve, reject) => {
      this.waiting = (reply) =>
        reply.type === 'error' ? reject(new Error(reply.message)) : resolve(reply);
      this.child.send(command);
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'stop' } satisfies GatewayCommand);
    await exited;
  }
}

export interface ClientProcessOptions {
  /** Node flags of the client. */
  readonly execArgv?: readonly string[];
  /** Runs the client under `valgrind --tool=callgrind`. */
  readonly callgrind?: boolean;
}

export class ClientProcess {
  private readonly child: ChildProcess;
  private readonly reports: ClientReport[] = [];
  private waiter: (() => void) | null = null;
  private exitCode: number | null = null;

  /** Where callgrind writes its dumps, when the client runs under it. */
  private readonly callgrindDir: string | null;

  constructor(config: ClientConfig, options: ClientProcessOptions = {}) {
    const nodeArgv = ['--expose-gc', ...(options.execArgv ?? [])];
    this.callgrindDir = options.callgrind ? mkdtempSync(join(tmpdir(), 'bench-callgrind-')) : null;
    this.child = fork(`${here}client-process.js`, [JSON.stringify(config)], {
      ...(this.callgrindDir === null
        ? { execArgv: nodeArgv }
        : {
            execPath: 'valgrind',
            execArgv: [
              '-q',
              '--tool=callgrind',
              `--callgrind-out-file=${join(this.callgrindDir, 'callgrind.%p')}`,
              process.execPath,
              ...nodeArgv,
            ],
          }),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (report: ClientReport) => {
      this.reports.push(report);
      this.waiter?.();
    });
    this.child.on('exit', (code) => {
      this.exitCode = code ?? 1;
      this.waiter?.();
    });
  }

  async next<T extends ClientReport['type']>(
    type: T,
    timeoutMs = 120_000,
  ): Promise<Extract<ClientReport, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.reports.findIndex((r) => r.type === type);
      if (index >= 0) return this.reports.splice(index, 1)[0] as Extract<ClientReport, { type: T }>;
      if (this.exitCode !== null)
        throw new Error(`client exited (${this.exitCode}) before '${type}'`);
      if (Date.now() > deadline) throw new Error(`client: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** The client's process id (also valgrind's, under callgrind). */
  get pid(): number {
    return this.child.pid!;
  }

  send(message: OrchestratorMessage): void {
    this.child.send(message);
  }

  /** Under callgrind: zeroes its counters (the window starts here). */
  async zeroInstructions(): Promise<void> {
    await run('callgrind_control', ['-z', String(this.child.pid)]);
  }

  /**
   * Under callgrind: the instructions executed since {@link zeroInstructions}, all threads,
   * and of them those spent compiling JavaScript (V8's optimizing, baseline and lazy bytecode
   * compilers, inclusive). With `keepAs`, the dump of that window is copied there (for
   * `callgrind_annotate`).
   */
  async instructions(keepAs?: string): Promise<{ total: number; compile: number }> {
    await run('callgrind_control', ['-d', String(this.child.pid)]);
    const file = join(this.callgrindDir!, `callgrind.${this.child.pid}.1`);
    if (keepAs !== undefined) copyFileSync(file, keepAs);
    const summary = /^summary: (\d+)$/m.exec(readFileSync(file, 'utf8'));
    if (summary === null) throw new Error('callgrind dump without a summary line');
    const { stdout } = await run(
      'callgrind_annotate',
      ['--inclusive=yes', '--threshold=100', file],
      { maxBuffer: 256 * 1024 * 1024 },
    );
    let compile = 0;
    for (const line of stdout.split('\n')) {
      const match = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
      if (match !== null && COMPILER_ENTRY_POINTS.some((entry) => match[2].includes(entry)))
        compile += Number(match[1].replaceAll(',', ''));
    }
    return { total: Number(summary[1]), compile };
  }

  async exit(): Promise<void> {
    if (this.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.send({ type: 'exit' });
      const timer = setTimeout(
        () => this.child.kill('SIGKILL'),
        this.callgrindDir ? 60_000 : 10_000,
      );
      await exited;
      clearTimeout(timer);
    }
    if (this.callgrindDir !== null) rmSync(this.callgrindDir, { recursive: true, force: true });
  }
}

/**
 * V8's compiler entry points, as callgrind names them (disjoint: none runs inside another):
 * TurboFan, Sparkplug batches, and lazy compilation to bytecode.
 */
const COMPILER_ENTRY_POINTS = [
  '::Compiler::CompileOptimized(',
  '::BaselineBatchCompiler::CompileBatch(',
  '::Compiler::Compile(v8::internal::Isolate*, v8::internal::Handle<v8::internal::JSFunction>',
];

/** A client's configuration: the given fields over the defaults (one shard, json, uncompressed). */
export function clientConfig(
  base: Partial<ClientConfig> & Pick<ClientConfig, 'kind' | 'url' | 'apiUrl' | 'token'>,
): ClientConfig {
  return {
    compression: 'none',
    encoding: 'json',
    filtered: false,
    shards: 1,
    maxConcurrency: 1,
    identifyWindowMs: 5_000,
    noNative: false,
    metrics: false,
    mode: 'throughput',
    ...base,
  };
}
