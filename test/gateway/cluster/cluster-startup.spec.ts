import { DEFAULT_IDENTIFY_MARGIN_MS } from '../../../lib/gateway/queue/index.js';
import { EventType } from '../../../lib/gateway/events/event-type.js';
import type { GatewayEvent } from '../../../lib/gateway/events/gateway-event.js';
import type { ClusterProgress } from '../../../lib/gateway/cluster/cluster.js';
import { ShardState } from '../../../lib/gateway/shard/shard-state.js';
import type { FakeGateway } from '../../../lib/testing/index.js';
import {
  allQueuedOrActive,
  createCluster,
  driveUntilSettled,
  startFake,
  until,
} from './cluster-support.js';
import type { Cluster } from '../../../lib/gateway/cluster/cluster.js';

describe('Cluster startup (GW-SH-4, GW-RL-2, GW-GT-13)', () => {
  let fake: FakeGateway;
  let cluster: Cluster | undefined;

  afterEach(async () => {
    await cluster?.down();
    cluster = undefined;
    await fake.stop();
  });

  it('GW-SH-4: 16 shards, max_concurrency 4, 1 s window: all READY, no bucket violation, IDENTIFYs one window plus the identify margin apart', async () => {
    const started = await startFake({ shards: 16, maxConcurrency: 4, identifyWindowMs: 1_000 });
    fake = started.fake;
    const { clock } = started;
    cluster = createCluster(fake, clock, { shards: 'recommended', identifyWindowMs: 1_000 });
    const events: GatewayEvent[] = [];
    cluster.addListener((event) => events.push(event));
    const progress: ClusterProgress[] = [];
    cluster.onProgress((p) => progress.push(p));

    const up = cluster.up();
    // Every shard connects and queues before protocol time moves, so the queue is full.
    await until(() => allQueuedOrActive(cluster as Cluster, 16));
    await driveUntilSettled(clock, up, 1_000);

    expect(cluster.shardCount).toBe(16);
    expect(cluster.shardIds).toEqual([...Array(16).keys()]);
    expect(cluster.info().every((info) => info.state === ShardState.Active)).toBe(true);
    expect(
      events
        .filter((e) => e.type === EventType.ShardReady)
        .map((e) => e.shardId)
        .sort((a, b) => a - b),
    ).toEqual([...Array(16).keys()]);
    expect(events.filter((e) => e.type === EventType.ClusterReady)).toHaveLength(1);

    const identifies = fake.record.identifies;
    expect(identifies).toHaveLength(16);
    expect(identifies.every((i) => i.outcome === 'accepted' && i.shardCount === 16)).toBe(true);
    expect(fake.record.violations.filter((v) => v.kind === 'identify-bucket')).toEqual([]);
    expect(fake.record.violations).toEqual([]);
    for (let bucket = 0; bucket < 4; bucket++) {
      const times = identifies.filter((i) => i.bucket === bucket).map((i) => i.at);
      expect(times).toHaveLength(4);
      const start = times[0] as number;
      const step = 1_000 + DEFAULT_IDENTIFY_MARGIN_MS;
      expect(times).toEqual([start, start + step, start + 2 * step, start + 3 * step]);
    }
    expect(progress.at(-1)).toMatchObject({ ready: 16, total: 16, etaMs: 0 });
    expect(progress.some((p) => p.etaMs === 3 * (1_000 + DEFAULT_IDENTIFY_MARGIN_MS))).toBe(true);
  });
});
