/**
 * The idle part: heap and RSS per shard of a cluster that only heartbeats, next to
 * @discordjs/ws with the same shard count, each in its own process, after GC.
 */
import type { ClientKind } from './common.js';
import { selected, type BenchOptions } from './options.js';
import { ClientProcess, GatewayProcess, clientConfig, log } from './processes.js';

interface IdleRow {
  readonly id: string;
  readonly label: string;
  readonly kind: ClientKind;
  readonly shards: number;
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
  const measured = new Map<IdleRow, { heap: number; rss: number }>();
  for (const r of rows) measured.set(r, await idleRun(r.kind, r.shards));
  const lines = [
    '### Idle memory per shard (heartbeating, no traffic; after GC)',
    '',
    '| client | shards | heap / shard KiB | RSS / shard KiB | x @discordjs/ws (heap) |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const [r, m] of measured) {
    const djs = [...measured].find(([o]) => o.kind === 'djs-none' && o.shards === r.shards)?.[1];
    lines.push(
      `| ${r.label} | ${r.shards} | ${(m.heap / 1024).toFixed(1)} | ${(m.rss / 1024).toFixed(1)} | ${djs ? `${(m.heap / djs.heap).toFixed(2)}x` : '-'} |`,
    );
  }
  return lines;
}

async function idleRun(kind: ClientKind, shards: number): Promise<{ heap: number; rss: number }> {
  const { gateway, started } = await GatewayProcess.start({
    shards,
    maxConcurrency: shards,
    identifyWindowMs: 100,
    heartbeatIntervalMs: 1_000,
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
      }),
    );
    try {
      const report = await client.next('idle', 300_000);
      const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
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
