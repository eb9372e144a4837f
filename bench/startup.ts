/**
 * The startup part: time from `up()` to CLUSTER_READY against the floor the identify rules
 * set (max_concurrency buckets, one IDENTIFY per bucket per window).
 *
 * To add a row, add it to {@link STARTUP_ROWS}; a new client setting (another identify
 * queue, say) goes into ClientConfig (common.ts) and the row's `client` field.
 */
import { median, type ClientConfig } from './common.js';
import { selected, type BenchOptions } from './options.js';
import { ClientProcess, GatewayProcess, clientConfig, log } from './processes.js';

export interface StartupRow {
  /** What `--only` names. */
  readonly id: string;
  readonly label: string;
  readonly shards: number;
  readonly maxConcurrency: number;
  /** The identify window of the gateway and the client, ms (Discord's is 5,000). */
  readonly identifyWindowMs: number;
  /** Further client settings. */
  readonly client?: Partial<ClientConfig>;
}

export const STARTUP_ROWS: readonly StartupRow[] = [
  {
    id: 'startup-16',
    label: '16 shards, max_concurrency 4, in-process queue, 1,000 ms window',
    shards: 16,
    maxConcurrency: 4,
    identifyWindowMs: 1_000,
  },
  {
    id: 'startup-16-real',
    label: "16 shards, max_concurrency 4, in-process queue, Discord's 5,000 ms window",
    shards: 16,
    maxConcurrency: 4,
    identifyWindowMs: 5_000,
  },
];

/**
 * The most a start may take, as a multiple of the floor: the identify margin
 * (DEFAULT_IDENTIFY_MARGIN_MS per window) and the handshakes must stay within 10% of it.
 */
export const STARTUP_TARGET = 1.1;

/**
 * The floor: bucket `id % maxConcurrency` identifies its shards one window apart, so the
 * fullest bucket's last IDENTIFY goes out `ceil(shards / maxConcurrency) - 1` windows after
 * the first.
 */
export function startupFloorMs(r: StartupRow): number {
  return (Math.ceil(r.shards / r.maxConcurrency) - 1) * r.identifyWindowMs;
}

export async function startupPart(options: BenchOptions): Promise<string[]> {
  const rows = STARTUP_ROWS.filter((r) => selected(options, 'startup', r.id));
  if (rows.length === 0) return [];
  const lines = [
    '### Startup: up() to CLUSTER_READY',
    '',
    `| row | floor ms | median ms (of ${options.runs}) | above the floor ms | x floor (target <= ${STARTUP_TARGET}) | runs ms |`,
    '| --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    const samples: number[] = [];
    for (let run = 0; run < options.runs; run++) samples.push(await startupRun(r));
    const ms = median(samples);
    const floor = startupFloorMs(r);
    lines.push(
      `| ${r.label} | ${floor} | ${Math.round(ms)} | ${Math.round(ms - floor)} | ${(ms / floor).toFixed(3)}${ms / floor <= STARTUP_TARGET ? '' : ' (missed)'} | ${samples.map((s) => Math.round(s)).join(', ')} |`,
    );
  }
  return lines;
}

async function startupRun(r: StartupRow): Promise<number> {
  const { gateway, started } = await GatewayProcess.start({
    shards: r.shards,
    maxConcurrency: r.maxConcurrency,
    identifyWindowMs: r.identifyWindowMs,
    heartbeatIntervalMs: 41_250,
    events: 1,
    warmup: 0,
  });
  try {
    const client = new ClientProcess(
      clientConfig({
        ...r.client,
        kind: 'cluster',
        url: started.url,
        apiUrl: started.apiUrl,
        token: started.token,
        shards: r.shards,
        maxConcurrency: r.maxConcurrency,
        identifyWindowMs: r.identifyWindowMs,
        mode: 'startup',
      }),
    );
    try {
      const report = await client.next('ready', 120_000 + 2 * startupFloorMs(r));
      log(`  ${r.id}: ${Math.round(report.readyMs)} ms`);
      return report.readyMs;
    } finally {
      await client.exit();
    }
  } finally {
    await gateway.stop();
  }
}
