/**
 * The command line of `npm run bench`, read once. Every part of the benchmark takes its
 * settings from {@link BenchOptions}.
 */

export interface BenchOptions {
  /** `--quick`: 1 run, 20,000 events after 2,000 of warmup, idle at 100 shards only. */
  readonly quick: boolean;
  /** `--runs N`: runs per row (3; 1 with `--quick`); figures are medians over them. */
  readonly runs: number;
  /** `--events N`: measured events per shard and run (60,000; 20,000 with `--quick`). */
  readonly events: number;
  /**
   * `--warmup N`: events streamed to each shard before its measured window (10,000; 2,000
   * with `--quick`). V8 compiles the hot path and the client warms its caches on them, as a
   * bot does in its first seconds, so the window holds the per-event cost of a running bot
   * and not the one-time compilation, which differs with the amount of code a client runs.
   */
  readonly warmup: number;
  /**
   * `--only a,b`: rows to run, by row id (`a-zlib`, `startup-16`) or part name (`throughput`,
   * `idle`, `startup`); everything when absent.
   */
  readonly only: readonly string[] | null;
  /**
   * `--profile ID`: writes a `node --cpu-prof` profile of that row to `bench-profiles/` (of a
   * Redis row, `r-*`: one of its gateway process and one of its consumer process).
   */
  readonly profile: string | null;
  /**
   * `--instructions`: counts instructions under callgrind instead of CPU time (see run.ts).
   * Implied by `--callgrind-out DIR`, which also keeps each window's dump in DIR.
   */
  readonly instructions: boolean;
  readonly callgrindOut: string | null;
  /**
   * `--semi-space MiB`: V8's young generation of every throughput client
   * (`--max-semi-space-size`; 8, `0` = V8's own sizing). V8 grows the semi-spaces (1 to 16
   * MiB) by what survived so far, so a process's size is an accident of its startup: Nest's
   * bootstrap pushes it to 16 MiB where a plain Cluster stays at 8, and a larger nursery costs
   * 10-20% per event here (cache misses), whatever the client. The same cap for all compares
   * the clients, not that.
   */
  readonly semiSpaceMiB: number;
  /**
   * `--heap-snapshots DIR`: each idle client writes a heap snapshot into DIR right after its
   * sample (see idle.ts; `dist/bench/heap-summary.js` reads them).
   */
  readonly heapSnapshots: string | null;
  /** `--no-idle`, `--no-startup`: skip those parts. */
  readonly skip: ReadonlySet<string>;
  /** `BENCH_CLIENT_FLAGS` (environment): node flags added to every throughput client. */
  readonly clientFlags: readonly string[];
}

export function parseOptions(args: readonly string[]): BenchOptions {
  const value = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i < 0 ? undefined : args[i + 1];
  };
  const count = (name: string, fallback: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`--${name} wants a whole number, not ${raw}`);
    return n;
  };
  const quick = args.includes('--quick');
  const callgrindOut = value('callgrind-out') ?? null;
  const skip = new Set<string>();
  for (const part of ['idle', 'startup']) if (args.includes(`--no-${part}`)) skip.add(part);
  return {
    quick,
    runs: Math.max(1, count('runs', quick ? 1 : 3)),
    events: count('events', quick ? 20_000 : 60_000),
    warmup: count('warmup', quick ? 2_000 : 10_000),
    only: value('only')?.split(',') ?? null,
    profile: value('profile') ?? null,
    instructions: args.includes('--instructions') || callgrindOut !== null,
    callgrindOut,
    semiSpaceMiB: count('semi-space', 8),
    heapSnapshots: value('heap-snapshots') ?? null,
    skip,
    clientFlags: process.env.BENCH_CLIENT_FLAGS?.split(' ').filter(Boolean) ?? [],
  };
}

/** Whether the row `id` of part `part` runs: `--only` names it or its part, and the part is not skipped. */
export function selected(options: BenchOptions, part: string, id: string): boolean {
  if (options.skip.has(part)) return false;
  return options.only === null || options.only.includes(id) || options.only.includes(part);
}
