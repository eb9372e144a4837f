/**
 * The idle part: heap and RSS per shard of a cluster that only heartbeats, next to
 * @discordjs/ws with the same shard count, each in its own process, after GC.
 *
 * Each client runs against a FakeGateway in a process of its own, heartbeating every
 * {@link HEARTBEAT_MS} for {@link IDLE_MS} after its last shard is ready, so every shard sends
 * at least two heartbeats before the sample. The gateway then says what it saw; a run counts
 * only when the gateway kept up: every shard's session open, every open session's heartbeats
 * ACKed, and no connection opened during the idle time (no shard took its connection for a
 * zombie, or timed out opening one, and reconnected). A run that fails the check is reported and
 * marked in the table. Connections beyond one per shard opened before the idle time (a gateway
 * process stalled by 1,000 upgrades at once on a loaded machine) are shown: their sockets were
 * closed and collected before the sample.
 *
 * "heap / shard" is the heap the client grew by from just before `start()` to the sample,
 * divided by the shard count: it includes what the process allocates once (code compiled on
 * first use, HTTP clients, the identify queue). "per added shard" is the slope between the
 * 100- and 1,000-shard runs of one client, which that once-per-process part cancels out of.
 *
 * `--heap-snapshots DIR` writes a heap snapshot of each client right after its sample
 * (`idle-<client>-<shards>.heapsnapshot`) and one just before `start()`
 * (`idle-<client>-<shards>.before.heapsnapshot`; RSS figures of such a run are not comparable);
 * `node dist/bench/heap-summary.js` attributes the difference between two of them to
 * constructors, per added shard (a "before" snapshot counts as 0 shards).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientKind, GatewayStatus } from './common.js';
import { median } from './common.js';
import { selected, type BenchOptions } from './options.js';
import { ClientProcess, GatewayProcess, clientConfig, log } from './processes.js';

/**
 * The gateway's heartbeat interval, ms: long enough that a gateway process stalled for a few
 * seconds by 1,000 connections opening at once on a loaded machine still answers in time.
 */
const HEARTBEAT_MS = 15_000;
/** How long the shards heartbeat after the last is ready, before the sample, ms. */
const IDLE_MS = 35_000;

interface IdleRow {
  readonly id: string;
  readonly label: string;
  readonly kind: ClientKind;
  readonly shards: number;
}

interface IdleSample {
  readonly heap: number;
  readonly rss: number;
  /** The gateway kept up (see the module comment). */
  readonly healthy: boolean;
  readonly status: GatewayStatus;
}

/** Every idle row; `--quick` keeps those of 100 shards. */
export const IDLE_ROWS: readonly IdleRow[] = [100, 1_000].flatMap((shards) => [
  { id: `idle-cluster-${shards}`, label: '(a) Cluster', kind: 'cluster' as const, shards },
  { id: `idle-djs-${shards}`, label: '(c) @discordjs/ws', kind: 'djs-none' as const, shards },
]);

export async function idlePart(options: BenchOptions): Promise<string[]> {
  const rows = IDLE_ROWS.filter(
    (r) => selected(options, 'idle', r.id) && (!options.quick || r.shards === 100),
  );
  if (rows.length === 0) return [];
  if (options.heapSnapshots !== null) mkdirSync(options.heapSnapshots, { recursive: true });
  const samples = new Map<IdleRow, IdleSample[]>(rows.map((r) => [r, []]));
  // Runs interleaved across rows, as in the throughput part.
  for (let run = 0; run < options.runs; run++) {
    for (const r of rows) samples.get(r)!.push(await idleRun(r, options, run));
  }
  const heap = (r: IdleRow): number => median(samples.get(r)!.map((s) => s.heap));
  const rss = (r: IdleRow): number => median(samples.get(r)!.map((s) => s.rss));
  /** Heap per added shard between this client's smallest and largest run, bytes. */
  const slope = (r: IdleRow): number | null => {
    const same = rows.filter((o) => o.kind === r.kind);
    const low = same.reduce((a, b) => (b.shards < a.shards ? b : a));
    const high = same.reduce((a, b) => (b.shards > a.shards ? b : a));
    if (low === high) return null;
    return (heap(high) * high.shards - heap(low) * low.shards) / (high.shards - low.shards);
  };
  const djsOf = (r: IdleRow): IdleRow | undefined =>
    rows.find((o) => o.kind === 'djs-none' && o.shards === r.shards);
  const kib = (bytes: number): string => (bytes / 1024).toFixed(1);
  const lines = [
    `### Idle memory per shard (heartbeating every ${HEARTBEAT_MS / 1000} s for ${IDLE_MS / 1000} s, no traffic; after GC)`,
    '',
    `Median of ${options.runs} run(s). Gateway check: connections opened / resumes / heartbeats ACKed of sent / seconds without a new connection before the sample / 99th-percentile event-loop delay of the gateway process; "!" marks a run in which the gateway did not keep up.`,
    '',
    '| client | shards | heap / shard KiB | heap per added shard KiB | RSS / shard KiB | x @discordjs/ws (heap / shard) | x @discordjs/ws (per added shard) | gateway check |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    const djs = djsOf(r);
    const own = slope(r);
    const djsSlope = djs === undefined ? null : slope(djs);
    const checks = samples
      .get(r)!
      .map(
        (s) =>
          `${s.healthy ? '' : '! '}${s.status.connections} / ${s.status.resumes} / ${s.status.acks} of ${s.status.heartbeats} / ${Math.floor(s.status.quietForMs / 1000)} s / ${s.status.loopDelayP99Ms} ms`,
      )
      .join('; ');
    lines.push(
      `| ${r.label} | ${r.shards} | ${kib(heap(r))} | ${own === null ? '-' : kib(own)} | ${kib(rss(r))} | ${djs ? `${(heap(r) / heap(djs)).toFixed(2)}x` : '-'} | ${own !== null && djsSlope !== null ? `${(own / djsSlope).toFixed(2)}x` : '-'} | ${checks} |`,
    );
  }
  return lines;
}

async function idleRun(r: IdleRow, options: BenchOptions, run: number): Promise<IdleSample> {
  const { kind, shards } = r;
  const { gateway, started } = await GatewayProcess.start({
    shards,
    maxConcurrency: shards,
    identifyWindowMs: 100,
    heartbeatIntervalMs: HEARTBEAT_MS,
    events: 1,
    warmup: 0,
  });
  try {
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
        idleMs: IDLE_MS,
        ...(options.heapSnapshots === null
          ? {}
          : {
              heapSnapshot: join(
                options.heapSnapshots,
                `idle-${kind}-${shards}${run > 0 ? `-${run + 1}` : ''}.heapsnapshot`,
              ),
            }),
      }),
    );
    try {
      const report = await client.next('idle', 300_000);
      const status = await gateway.request({ type: 'status' });
      if (status.type !== 'status') throw new Error('gateway: no status');
      const healthy =
        status.openSessions === shards &&
        status.sessionsUnacked === 0 &&
        status.quietForMs >= IDLE_MS;
      const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(2);
      log(
        `  idle ${kind} x ${shards}: heap ${mib(report.heapUsed - report.baseHeap)} MiB, rss ${mib(report.rss - report.baseRss)} MiB; gateway: ${status.openSessions} sessions open, ${status.connections} connections, ${status.resumes} resumes, ${status.acks}/${status.heartbeats} heartbeats ACKed, no new connection for ${(status.quietForMs / 1000).toFixed(1)} s, loop delay p99 ${status.loopDelayP99Ms} ms max ${status.loopDelayMaxMs} ms`,
      );
      if (!healthy)
        log(
          `  WARNING: the gateway did not keep up with ${kind} x ${shards} (a session closed, heartbeats unanswered, or a shard reconnected while idle): the sample includes shards reconnecting`,
        );
      return {
        heap: (report.heapUsed - report.baseHeap) / shards,
        rss: (report.rss - report.baseRss) / shards,
        healthy,
        status,
      };
    } finally {
      await client.exit();
    }
  } finally {
    await gateway.stop();
  }
}
