/**
 * `npm run bench [-- --quick] [-- --only id,id] [-- --runs N] [-- --events N] [-- --warmup N]
 *   [-- --profile id] [-- --semi-space MiB] [-- --instructions] [-- --callgrind-out DIR]
 *   [-- --heap-snapshots DIR] [-- --no-idle] [-- --no-startup]` (options.ts documents each)
 *
 * Runs the parts in turn and prints one Markdown report (paste it into BENCHMARKS.md):
 * throughput (throughput.ts: one table per transport, the bare floor, the Cluster, Nest and
 * @discordjs/ws side by side), idle memory (idle.ts), startup (startup.ts). A FakeGateway
 * runs in its own process and every client in its own (child_process.fork); every figure is
 * the median over the runs, runs interleaved across rows so drift on a shared machine spreads
 * evenly. To add a part, add it to {@link PARTS}; to add a row, to its part's table.
 *
 * `--instructions` runs each throughput client under `valgrind --tool=callgrind` instead and
 * counts the instructions it executes (all threads) from 'go' to the end marker: a count that
 * does not move with the load of a shared machine, where CPU time moves by 10-30%. It needs
 * valgrind on the PATH and runs about 50 times slower, so use fewer events (`--events 20000`).
 * `BENCH_CLIENT_FLAGS` (environment) adds node flags to every throughput client, e.g.
 * `--perf-basic-prof` to name JIT code in callgrind dumps through `/tmp/perf-<pid>.map`.
 * `--callgrind-out DIR` (implies `--instructions`) keeps each window's dump in DIR, named
 * after the row, for `callgrind_annotate`. The clients then run with V8's
 * `--single-threaded` (GC and compilation on the main thread) and fixed seeds. Only user-space
 * instructions count (not the kernel's socket reads). The ratios compare instructions outside
 * JIT compilation (V8's compilers, inclusive, reported beside them): a late recompilation
 * after a rare code path (a frame header split across two reads) is a one-time cost that
 * otherwise moved one client's count by up to 15% between runs.
 */
import { cpus } from 'node:os';
import { idlePart } from './idle.js';
import { parseOptions, type BenchOptions } from './options.js';
import { log } from './processes.js';
import { startupPart } from './startup.js';
import { throughputPart } from './throughput.js';

/** The parts of a run, in order; each returns its Markdown lines (none when nothing of it is selected). */
const PARTS: readonly ((options: BenchOptions) => Promise<string[]>)[] = [
  throughputPart,
  idlePart,
  startupPart,
];

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  log(`bench: node ${process.version}, ${cpus().length} cores`);
  const lines = [
    `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}); ${options.runs} run(s) per row, ${options.events} events per shard and run measured after ${options.warmup} warmup events; throughput clients with ${options.semiSpaceMiB > 0 ? `--max-semi-space-size=${options.semiSpaceMiB}` : "V8's own young-generation sizing"}${options.instructions ? ', under callgrind' : ''}.`,
  ];
  for (const part of PARTS) {
    const partLines = await part(options);
    if (partLines.length > 0) lines.push('', ...partLines);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
