import { jest } from '@jest/globals';
import { Cluster } from '../../lib/gateway/cluster/cluster.js';
import type { GatewayEvent } from '../../lib/gateway/events/gateway-event.js';
import { silentLogger } from '../../lib/gateway/logger.js';
import { ShardState } from '../../lib/gateway/shard/shard-state.js';
import {
  FakeGateway,
  type FakeGatewayProcess,
  type IdentifyRecord,
} from '../../lib/testing/index.js';
import { count, startNetworkGateway, until } from './support.js';

jest.setTimeout(120_000);

/**
 * Discord's identify window scaled by 1/5 (1_000 ms for 5 s), with 20 ms of jitter each way;
 * the client's margin is 300 ms, generous at this scale because a gateway process starved of
 * CPU on a loaded machine stamps some IDENTIFYs late: at a load average of 15 on two cores,
 * stamps 150 ms late were seen during the start of 16 connections.
 */
const WINDOW_MS = 1_000;
const MARGIN_MS = 300;
const SHARDS = 16;
const MAX_CONCURRENCY = 4;
/** Waves of op 9 `false`, each forcing several shards of a bucket to identify again at once. */
const WAVES = 6;

/** Gaps between consecutive accepted IDENTIFYs of each bucket, at the gateway's arrival stamps. */
function bucketGaps(identifies: readonly IdentifyRecord[]): number[] {
  const gaps: number[] = [];
  for (let bucket = 0; bucket < MAX_CONCURRENCY; bucket++) {
    const stamps = identifies
      .filter((i) => i.bucket === bucket && i.outcome !== 'rejected')
      .map((i) => i.at)
      .sort((a, b) => a - b);
    for (let i = 1; i < stamps.length; i++) gaps.push(stamps[i] - stamps[i - 1]);
  }
  return gaps;
}

describe('identify buckets judged at the server, with jitter on the path (GW-RL-2, GW-SH-4)', () => {
  let gw: FakeGatewayProcess | undefined;
  let cluster: Cluster | undefined;

  afterEach(async () => {
    await cluster?.down();
    cluster = undefined;
    await gw?.stop();
    gw = undefined;
  });

  // Wrong clients this fails: a queue that grants a bucket exactly one window after its own
  // previous grant (identifyMarginMs 0, the 4,972 ms gap: checked, the gateway refused
  // dozens), and a shard that identifies again after op 9 without going through the queue.
  it(`${SHARDS} shards at max_concurrency ${MAX_CONCURRENCY}, re-identifies forced by op 9 false: no bucket gap under the window at the server`, async () => {
    gw = await startNetworkGateway({
      shards: SHARDS,
      maxConcurrency: MAX_CONCURRENCY,
      identifyWindowMs: WINDOW_MS,
      heartbeatIntervalMs: 4_125,
      traffic: { guildCount: SHARDS },
    });
    const events: GatewayEvent[] = [];
    cluster = new Cluster(
      {
        token: FakeGateway.defaultToken,
        intents: ['Guilds'],
        apiUrl: gw.apiUrl,
        gatewayUrl: gw.url,
        compression: 'none',
        shards: { from: 0, to: SHARDS - 1, shardCount: SHARDS },
        maxConcurrency: MAX_CONCURRENCY,
        identifyWindowMs: WINDOW_MS,
        identifyMarginMs: MARGIN_MS,
        invalidSessionDelayMs: { min: 10, max: 100 },
        limits: { commandWindowMs: 6_000 },
      },
      { logger: silentLogger },
    );
    cluster.addListener((event) => events.push(event));
    await cluster.up();
    await until(() => count(events, 'CLUSTER_READY') === 1, 30_000, 'CLUSTER_READY');

    let expected = SHARDS;
    for (let wave = 0; wave < WAVES; wave++) {
      // Every shard of one bucket, plus two of the next: they queue behind each other.
      const bucket = wave % MAX_CONCURRENCY;
      const ids = [
        ...Array.from({ length: SHARDS / MAX_CONCURRENCY }, (_, i) => bucket + i * MAX_CONCURRENCY),
        (bucket + 1) % MAX_CONCURRENCY,
        ((bucket + 1) % MAX_CONCURRENCY) + MAX_CONCURRENCY,
      ];
      await Promise.all(ids.map((id) => gw!.connection(id, 'invalidateSession', false)));
      expected += ids.length;
      await gw.waitFor(
        'identifies',
        (list) => list.filter((i) => i.outcome === 'accepted').length >= expected,
        {
          timeoutMs: 30_000,
        },
      );
      await until(
        () => cluster!.info().every((shard) => shard.state === ShardState.Active),
        30_000,
        'every shard Active again',
      );
    }

    const identifies = await gw.record('identifies');
    expect(identifies.filter((i) => i.outcome !== 'accepted')).toEqual([]);
    expect(identifies).toHaveLength(expected);
    const gaps = bucketGaps(identifies);
    expect(gaps.length).toBe(expected - MAX_CONCURRENCY);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(WINDOW_MS);
    expect((await gw.record('violations')).filter((v) => v.kind === 'identify-bucket')).toEqual([]);
  });
});
