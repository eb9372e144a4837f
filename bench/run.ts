/**
 * `npm run bench [-- --quick] [-- --only id,id] [-- --runs N] [-- --events N] [-- --warmup N]
 *   [-- --profile id]
 *   [-- --semi-space MiB] [-- --instructions] [-- --callgrind-out DIR]`
 *
 * Starts a FakeGateway in its own process and, one at a time, each client in its own process
 * (child_process.fork); every figure is the median over the runs, runs interleaved across
 * clients so drift on a shared machine spreads evenly. Ratios are computed from the medians of
 * this run. Prints a Markdown report (paste it into BENCHMARKS.md).
 *
 * `--instructions` runs each throughput client under `valgrind --tool=callgrind` instead and
 * counts the instructions it executes (all threads) from 'go' to the end marker: a count that
 * does not move with the load of a shared machine, where CPU time moves by 10-30%. It needs
 * valgrind on the PATH and runs about 50 times slower, so use fewer events (`--events 20000`).
 * `BENCH_CLIENT_FLAGS` (environment) adds node flags to every throughput client, e.g.
 * `--perf-basic-prof` to name JIT code in callgrind dumps through `/tmp/perf-<pid>.map`.
 * `--callgrind-out DIR` (implies `--instructions`) keeps each window's dump in DIR, named
 * after the client, for `callgrind_annotate`. The clients then run with V8's
 * `--single-threaded` (GC and compilation on the main thread) and fixed seeds. Only user-space
 * instructions count (not the kernel's socket reads). The ratios compare instructions outside
 * JIT compilation (V8's compilers, inclusive, reported beside them): a late recompilation
 * after a rare code path (a frame header split across two reads) is a one-time cost that
 * otherwise moved one client's count by up to 15% between runs.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  median,
  type ClientConfig,
  type ClientKind,
  type ClientReport,
  type Compression,
  type Encoding,
  type GatewayCommand,
  type GatewayReply,
  type GeneratedStats,
  type ThroughputResult,
} from './common.js';

interface Scenario {
  readonly id: string;
  readonly label: string;
  readonly kind: ClientKind;
  readonly compression: Compression;
  readonly encoding?: Encoding;
  readonly filtered?: boolean;
  readonly noNative?: boolean;
}

const SCENARIOS: readonly Scenario[] = [
  { id: 'd-none', label: '(d) bare: ws + JSON.parse', kind: 'bare-sync', compression: 'none' },
  {
    id: 'f-none',
    label: '(f) ceiling: ws receive only, no decode',
    kind: 'bare-recv',
    compression: 'none',
  },
  { id: 'a-none', label: '(a) Cluster, listener', kind: 'cluster', compression: 'none' },
  { id: 'b-none', label: '(b) Nest, handler per type', kind: 'nest', compression: 'none' },
  { id: 'c-none', label: '(c) @discordjs/ws', kind: 'djs-none', compression: 'none' },
  {
    id: 'a-none-etf',
    label: '(a) Cluster, ETF (erlpack)',
    kind: 'cluster',
    compression: 'none',
    encoding: 'etf',
  },
  {
    id: 'a-none-filtered',
    label: '(a) Cluster, MESSAGE_CREATE only',
    kind: 'cluster',
    compression: 'none',
    filtered: true,
  },
  {
    id: 'b-none-filtered',
    label: '(b) Nest, MESSAGE_CREATE only',
    kind: 'nest',
    compression: 'none',
    filtered: true,
  },
  {
    id: 'd-zlib',
    label: '(d) bare: ws + zlib-sync + JSON.parse',
    kind: 'bare-sync',
    compression: 'zlib-stream',
  },
  {
    id: 'e-zlib',
    label: '(e) bare: ws + node:zlib async stream',
    kind: 'bare-async',
    compression: 'zlib-stream',
  },
  {
    id: 'f-zlib',
    label: '(f) ceiling: ws + zlib-sync inflate, no decode',
    kind: 'bare-recv',
    compression: 'zlib-stream',
  },
  {
    id: 'a-zlib',
    label: '(a) Cluster, listener (zlib-sync)',
    kind: 'cluster',
    compression: 'zlib-stream',
  },
  { id: 'b-zlib', label: '(b) Nest, handler per type', kind: 'nest', compression: 'zlib-stream' },
  {
    id: 'c-zlib-sync',
    label: '(c) @discordjs/ws ZlibSync',
    kind: 'djs-sync',
    compression: 'zlib-stream',
  },
  {
    id: 'c-zlib-native',
    label: '(c) @discordjs/ws ZlibNative',
    kind: 'djs-native',
    compression: 'zlib-stream',
  },
  {
    id: 'a-zlib-nonative',
    label: '(a) Cluster, no native addons',
    kind: 'cluster',
    compression: 'zlib-stream',
    noNative: true,
  },
  {
    id: 'a-zlib-filtered',
    label: '(a) Cluster, MESSAGE_CREATE only',
    kind: 'cluster',
    compression: 'zlib-stream',
    filtered: true,
  },
  {
    id: 'a-zlib-etf',
    label: '(a) Cluster, ETF (erlpack)',
    kind: 'cluster',
    compression: 'zlib-stream',
    encoding: 'etf',
  },
  {
    id: 'd-zstd',
    label: '(d) bare: ws + zstd-napi + JSON.parse',
    kind: 'bare-sync',
    compression: 'zstd-stream',
  },
  {
    id: 'f-zstd',
    label: '(f) ceiling: ws + zstd-napi, no decode',
    kind: 'bare-recv',
    compression: 'zstd-stream',
  },
  {
    id: 'a-zstd',
    label: '(a) Cluster, listener (zstd-napi)',
    kind: 'cluster',
    compression: 'zstd-stream',
  },
  {
    id: 'a-zstd-filtered',
    label: '(a) Cluster, MESSAGE_CREATE only',
    kind: 'cluster',
    compression: 'zstd-stream',
    filtered: true,
  },
  {
    id: 'a-zstd-nonative',
    label: '(a) Cluster, no native addons (fzstd)',
    kind: 'cluster',
    compression: 'zstd-stream',
    noNative: true,
  },
];

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
const quick = args.includes('--quick');
const runs = Number(flag('runs') ?? (quick ? 1 : 3));
const events = Number(flag('events') ?? (quick ? 20_000 : 60_000));
/**
 * Events streamed to each client before its measured window (default 10,000; 2,000 with
 * `--quick`): V8 compiles the hot path and the client warms its caches on them, as a bot
 * does in its first seconds, so the window holds the per-event cost of a running bot and not
 * the one-time compilation, which differs with the amount of code each client runs.
 */
const warmup = Number(flag('warmup') ?? (quick ? 2_000 : 10_000));
const only = flag('only')?.split(',');
const profile = flag('profile');
const keepCallgrind = flag('callgrind-out');
const countInstructions = args.includes('--instructions') || keepCallgrind !== undefined;
const skipIdle = args.includes('--no-idle') || (only !== undefined && !only.includes('idle'));
/**
 * Every throughput client runs with this V8 young generation (`--max-semi-space-size`, MiB;
 * 0 = V8's own sizing). V8 grows the semi-spaces (1 to 16 MiB) by what survived so far, so a
 * process's size is an accident of its startup: Nest's bootstrap pushes it to 16 MiB where a
 * plain Cluster stays at 8, and on this machine a larger nursery costs 10-20% per event
 * (cache misses), whatever the client. The same cap for all compares the clients, not that.
 */
const semiSpaceMiB = Number(flag('semi-space') ?? 8);
const skipStartup =
  args.includes('--no-startup') || (only !== undefined && !only.includes('startup'));
const idleCounts = quick ? [100] : [100, 1_000];

const here = fileURLToPath(new URL('.', import.meta.url));

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

// ---- processes -----------------------------------------------------------------------------

class GatewayProcess {
  private readonly child: ChildProcess;
  private waiting: ((reply: GatewayReply) => void) | null = null;

  constructor() {
    this.child = fork(`${here}gateway-process.js`, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (reply: GatewayReply) => {
      const waiting = this.waiting;
      this.waiting = null;
      waiting?.(reply);
    });
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

class ClientProcess {
  private readonly child: ChildProcess;
  private readonly reports: ClientReport[] = [];
  private waiter: (() => void) | null = null;
  private exitCode: number | null = null;

  /** Where callgrind writes its dumps, when the client runs under it. */
  private readonly callgrindDir: string | null;

  constructor(config: ClientConfig, execArgv: string[] = [], underCallgrind = false) {
    const nodeArgv = ['--expose-gc', ...execArgv];
    this.callgrindDir = underCallgrind ? mkdtempSync(join(tmpdir(), 'bench-callgrind-')) : null;
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

  send(message: { type: string; expect?: number }): void {
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
    if (this.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.send({ type: 'exit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), this.callgrindDir ? 60_000 : 10_000);
    await exited;
    clearTimeout(timer);
    if (this.callgrindDir !== null) rmSync(this.callgrindDir, { recursive: true, force: true });
  }
}

const run = promisify(execFile);

/**
 * V8's compiler entry points, as callgrind names them (disjoint: none runs inside another):
 * TurboFan, Sparkplug batches, and lazy compilation to bytecode.
 */
const COMPILER_ENTRY_POINTS = [
  '::Compiler::CompileOptimized(',
  '::BaselineBatchCompiler::CompileBatch(',
  '::Compiler::Compile(v8::internal::Isolate*, v8::internal::Handle<v8::internal::JSFunction>',
];

function clientConfig(
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
    mode: 'throughput',
    ...base,
  };
}

// ---- throughput ----------------------------------------------------------------------------

interface Measured extends ThroughputResult {
  sent: number;
  compression: string | null;
  /** Instructions from 'go' to the end marker, and of them JIT compilation (`--instructions` only). */
  instructions: { total: number; compile: number } | null;
}

async function throughputRun(
  gateway: GatewayProcess,
  started: Extract<GatewayReply, { type: 'started' }>,
  scenario: Scenario,
): Promise<Measured> {
  const config = clientConfig({
    kind: scenario.kind,
    url: started.url,
    apiUrl: started.apiUrl,
    token: started.token,
    compression: scenario.compression,
    encoding: scenario.encoding ?? 'json',
    filtered: scenario.filtered ?? false,
    noNative: scenario.noNative ?? false,
  });
  const execArgv = profile === scenario.id ? ['--cpu-prof', '--cpu-prof-dir=bench-profiles'] : [];
  if (semiSpaceMiB > 0) execArgv.push(`--max-semi-space-size=${semiSpaceMiB}`);
  // One thread and fixed seeds: background compilation and GC threads finishing at different
  // points made counts of the same client differ by up to 20%; like this they agree within ~2%.
  if (countInstructions) execArgv.push('--single-threaded', '--hash-seed=1', '--random-seed=1');
  if (process.env.BENCH_CLIENT_FLAGS) execArgv.push(...process.env.BENCH_CLIENT_FLAGS.split(' '));
  const client = new ClientProcess(config, execArgv, countInstructions);
  const timeoutMs = countInstructions ? 600_000 : 120_000;
  try {
    await client.next('ready', timeoutMs);
    await gateway.request({ type: 'prepare' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (warmup > 0) {
      await gateway.request({ type: 'pump', phase: 'warmup', count: warmup });
      await client.next('warm', timeoutMs);
    }
    if (countInstructions) await client.zeroInstructions();
    client.send({ type: 'go', expect: events + 1 });
    // Not a frame of the stream may reach the client before its window is open.
    await client.next('going', timeoutMs);
    const pumped = await gateway.request({ type: 'pump', phase: 'main', count: events });
    if (pumped.type !== 'pumped') throw new Error('gateway: unexpected reply');
    const result = await client.next('result', timeoutMs);
    let keepAs: string | undefined;
    if (keepCallgrind !== undefined) {
      mkdirSync(keepCallgrind, { recursive: true });
      keepAs = join(keepCallgrind, `${scenario.id}.${Date.now()}.callgrind`);
    }
    const instructions = countInstructions ? await client.instructions(keepAs) : null;
    return { ...result, sent: pumped.sent, compression: pumped.compression, instructions };
  } finally {
    await client.exit();
  }
}

// ---- report --------------------------------------------------------------------------------

interface Row {
  scenario: Scenario;
  /**
   * CPU us per event, or with `--instructions` instructions per event outside JIT compilation
   * (the steady state: compiling is a one-time cost): what ratios compare.
   */
  cost: number;
  /** `--instructions`: median instructions per event spent compiling, and in all. */
  compilePerEvent: number;
  totalPerEvent: number;
  eventsPerSecond: number;
  peakRss: number;
  peakHeap: number;
  wirePerEvent: number;
  compression: string | null;
  path: string;
  delivered: number;
  samples: number[];
}

const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

function summarize(scenario: Scenario, results: Measured[]): Row {
  const perEvent = results.map((r) =>
    countInstructions
      ? (r.instructions!.total - r.instructions!.compile) / r.sent
      : (r.cpuMs * 1000) / r.sent,
  );
  return {
    scenario,
    cost: median(perEvent),
    compilePerEvent: countInstructions
      ? median(results.map((r) => r.instructions!.compile / r.sent))
      : 0,
    totalPerEvent: countInstructions
      ? median(results.map((r) => r.instructions!.total / r.sent))
      : 0,
    eventsPerSecond: median(results.map((r) => r.sent / (r.wallMs / 1000))),
    peakRss: median(results.map((r) => r.peakRss)),
    peakHeap: median(results.map((r) => r.peakHeap)),
    wirePerEvent: median(results.map((r) => r.wireBytes / r.sent)),
    compression: results[0].compression,
    path: results[0].path,
    delivered: results[0].delivered,
    samples: perEvent,
  };
}

async function main(): Promise<void> {
  const scenarios = SCENARIOS.filter((s) => only === undefined || only.includes(s.id));
  const lines: string[] = [];
  log(
    `bench: ${scenarios.length} clients x ${runs} runs x ${events} events after ${warmup} warmup events; node ${process.version}, ${cpus().length} cores`,
  );
  const rows = new Map<string, Row>();
  let generated: GeneratedStats | null = null;
  if (scenarios.length > 0) {
    const gateway = new GatewayProcess();
    const started = await gateway.request({
      type: 'start',
      shards: 1,
      // Clients connect one after another: no IDENTIFY may wait for a window.
      maxConcurrency: 16,
      identifyWindowMs: 1,
      // Long: no heartbeat ACK (compressed by the gateway's own context) lands inside a stream.
      heartbeatIntervalMs: 3_600_000,
      events,
      warmup,
    });
    if (started.type !== 'started') throw new Error('gateway did not start');
    generated = started.generated;
    const results = new Map<string, Measured[]>();
    for (let run = 0; run < runs; run++) {
      for (const scenario of scenarios) {
        const result = await throughputRun(gateway, started, scenario);
        log(
          `  run ${run + 1} ${scenario.id.padEnd(16)} ${((result.cpuMs * 1000) / result.sent).toFixed(2)} us/event (sys ${((result.sysMs * 1000) / result.sent).toFixed(2)})${result.instructions === null ? '' : `  ${Math.round(result.instructions.total / result.sent)} instructions/event (${Math.round(result.instructions.compile / result.sent)} compiling)`}  ${Math.round(result.sent / (result.wallMs / 1000))} ev/s  ${(result.wireBytes / result.sent).toFixed(0)} B/ev  [${result.path}]`,
        );
        results.set(scenario.id, [...(results.get(scenario.id) ?? []), result]);
      }
    }
    await gateway.stop();
    for (const scenario of scenarios)
      rows.set(scenario.id, summarize(scenario, results.get(scenario.id)!));
  }

  lines.push(
    `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}); ${runs} run(s) per client, ${events} events per run measured after ${warmup} warmup events; median figures${countInstructions ? ' of instructions per event under callgrind' : ''}; throughput clients with ${semiSpaceMiB > 0 ? `--max-semi-space-size=${semiSpaceMiB}` : "V8's own young-generation sizing"}.`,
  );
  if (generated !== null) {
    const mix = Object.entries(generated.byType)
      .sort((a, b) => b[1] - a[1])
      .map(([t, n]) => `${t} ${((100 * n) / generated!.events).toFixed(1)}%`)
      .join(', ');
    lines.push(
      '',
      `Stream: ${generated.events} events, ${(generated.jsonBytes / generated.events).toFixed(0)} bytes/event as JSON on average; ${mix}.`,
    );
  }
  const jsonPerEvent = generated ? generated.jsonBytes / generated.events : 0;

  for (const [title, compression] of [
    ['Uncompressed', 'none'],
    ['zlib-stream', 'zlib-stream'],
    [
      'zstd-stream (no @discordjs/ws client: its zstd needs node:zlib zstd, Node >= 22.15)',
      'zstd-stream',
    ],
  ] as const) {
    const group = [...rows.values()].filter((r) => r.scenario.compression === compression);
    if (group.length === 0) continue;
    const bare = rows.get(
      { none: 'd-none', 'zlib-stream': 'd-zlib', 'zstd-stream': 'd-zstd' }[compression],
    );
    const djs = rows.get(compression === 'none' ? 'c-none' : 'c-zlib-sync');
    lines.push('', `### ${title}`, '');
    if (countInstructions) {
      lines.push(
        '| client | instructions/event, JIT compilation excluded | JIT compilation/event | all instructions/event | x bare (d) | x @discordjs/ws (c) | path |',
        '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
      );
    } else {
      lines.push(
        '| client | CPU us/event | CPU ms / 1,000 events | events/s | x bare (d) | x @discordjs/ws (c) | peak RSS MiB | peak heap MiB | wire B/event | path |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      );
    }
    for (const row of group) {
      const ratio = (other: Row | undefined): string =>
        other ? `${(other.cost / row.cost).toFixed(2)}x` : '-';
      const wireNote =
        compression !== 'none' && row.wirePerEvent > 0.6 * jsonPerEvent
          ? ' **(compression NOT in effect)**'
          : '';
      if (countInstructions) {
        lines.push(
          `| ${row.scenario.label} | ${Math.round(row.cost).toLocaleString('en-US')} | ${Math.round(row.compilePerEvent).toLocaleString('en-US')} | ${Math.round(row.totalPerEvent).toLocaleString('en-US')} | ${ratio(bare)} | ${ratio(djs)} | ${row.path} |`,
        );
        continue;
      }
      lines.push(
        `| ${row.scenario.label} | ${row.cost.toFixed(2)} | ${row.cost.toFixed(2)} | ${Math.round(row.eventsPerSecond).toLocaleString('en-US')} | ${ratio(bare)} | ${ratio(djs)} | ${mib(row.peakRss)} | ${mib(row.peakHeap)} | ${row.wirePerEvent.toFixed(0)}${wireNote} | ${row.path} |`,
      );
    }
    lines.push(
      '',
      `Per-run ${countInstructions ? 'instructions' : 'CPU us'}/event: ${group.map((r) => `${r.scenario.id} [${r.samples.map((s) => (countInstructions ? Math.round(s).toLocaleString('en-US') : s.toFixed(2))).join(', ')}]`).join('; ')}.`,
    );
  }

  if (rows.size > 0) lines.push('', '### Targets', '', ...targets(rows));

  if (!skipIdle) {
    lines.push('', '### Idle memory per shard (heartbeating, no traffic; after GC)', '');
    lines.push(
      '| client | shards | heap / shard KiB | RSS / shard KiB | x @discordjs/ws (heap) |',
      '| --- | ---: | ---: | ---: | ---: |',
    );
    for (const count of idleCounts) {
      const ours = await idleRun('cluster', count);
      const djs = await idleRun('djs-none', count);
      lines.push(
        `| (a) Cluster | ${count} | ${(ours.heap / 1024).toFixed(1)} | ${(ours.rss / 1024).toFixed(1)} | ${(ours.heap / djs.heap).toFixed(2)}x |`,
      );
      lines.push(
        `| (c) @discordjs/ws | ${count} | ${(djs.heap / 1024).toFixed(1)} | ${(djs.rss / 1024).toFixed(1)} | 1.00x |`,
      );
    }
  }

  if (!skipStartup) {
    const windowMs = 1_000;
    const samples: number[] = [];
    for (let run = 0; run < Math.max(1, runs); run++) samples.push(await startupRun(windowMs));
    const floor = 3 * windowMs;
    const ms = median(samples);
    lines.push(
      '',
      '### Startup: 16 shards, max_concurrency 4',
      '',
      `Identify window ${windowMs} ms: 4 buckets x 4 shards need 3 full windows after the first IDENTIFY, a floor of ${floor} ms. Measured (up() to CLUSTER_READY, median of ${samples.length}): **${Math.round(ms)} ms**, ${Math.round(ms - floor)} ms above the floor (runs: ${samples.map((s) => Math.round(s)).join(', ')} ms).`,
    );
  }

  process.stdout.write(`${lines.join('\n')}\n`);
}

function targets(rows: Map<string, Row>): string[] {
  const us = (id: string): number | null => rows.get(id)?.cost ?? null;
  const check = (label: string, num: string, den: string, min: number): string => {
    const a = us(den);
    const b = us(num);
    if (a === null || b === null) return `- ${label}: not measured`;
    const ratio = a / b;
    return `- ${label}: **${ratio.toFixed(2)}x** (target >= ${min}x) ${ratio >= min ? 'holds' : 'MISSED'}`;
  };
  return [
    check('Uncompressed vs bare (d)', 'a-none', 'd-none', 0.9),
    check('Uncompressed vs @discordjs/ws', 'a-none', 'c-none', 1.5),
    check('zlib-sync vs bare zlib-sync (d)', 'a-zlib', 'd-zlib', 0.85),
    check('zlib-sync vs @discordjs/ws ZlibSync', 'a-zlib', 'c-zlib-sync', 1.3),
    check('no native addons vs @discordjs/ws ZlibNative', 'a-zlib-nonative', 'c-zlib-native', 2.5),
    check('filtered vs full-decode bare, uncompressed', 'a-none-filtered', 'd-none', 3),
    check('filtered vs full-decode bare, zlib-stream', 'a-zlib-filtered', 'd-zlib', 2),
    check('zstd-napi vs bare zstd-napi (d)', 'a-zstd', 'd-zstd', 0.85),
    check('filtered vs full-decode bare, zstd-stream', 'a-zstd-filtered', 'd-zstd', 2),
    check('Nest vs Cluster listener, uncompressed', 'b-none', 'a-none', 0.9),
    check('Nest vs Cluster listener, zlib-stream', 'b-zlib', 'a-zlib', 0.9),
  ];
}

async function idleRun(kind: ClientKind, shards: number): Promise<{ heap: number; rss: number }> {
  const gateway = new GatewayProcess();
  try {
    const started = await gateway.request({
      type: 'start',
      shards,
      maxConcurrency: shards,
      identifyWindowMs: 100,
      heartbeatIntervalMs: 1_000,
      events: 1,
      warmup: 0,
    });
    if (started.type !== 'started') throw new Error('gateway did not start');
    const client = new ClientProcess(
      clientConfig({
        kind,
        url: started.url,
        apiUrl: started.apiUrl,
        token: started.token,
        shards,
        maxConcurrency: shards,
        identifyWindowMs: 100,
        mode: 'idle',
      }),
    );
    try {
      const report = await client.next('idle', 300_000);
      log(
        `  idle ${kind} x ${shards}: heap ${mib(report.heapUsed - report.baseHeap)} MiB, rss ${mib(report.rss - report.baseRss)} MiB`,
      );
      return {
        heap: (report.heapUsed - report.baseHeap) / shards,
        rss: (report.rss - report.baseRss) / shards,
      };
    } finally {
      await client.exit();
    }
  } finally {
    await gateway.stop();
  }
}

async function startupRun(windowMs: number): Promise<number> {
  const gateway = new GatewayProcess();
  try {
    const started = await gateway.request({
      type: 'start',
      shards: 16,
      maxConcurrency: 4,
      identifyWindowMs: windowMs,
      heartbeatIntervalMs: 41_250,
      events: 1,
      warmup: 0,
    });
    if (started.type !== 'started') throw new Error('gateway did not start');
    const client = new ClientProcess(
      clientConfig({
        kind: 'cluster',
        url: started.url,
        apiUrl: started.apiUrl,
        token: started.token,
        shards: 16,
        maxConcurrency: 4,
        identifyWindowMs: windowMs,
        mode: 'startup',
      }),
    );
    try {
      const report = await client.next('ready');
      log(`  startup 16 shards: ${Math.round(report.readyMs)} ms`);
      return report.readyMs;
    } finally {
      await client.exit();
    }
  } finally {
    await gateway.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
