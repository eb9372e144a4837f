import { ClusterReadiness } from '../../../lib/gateway/cluster/readiness.js';
import type { GatewayEvent } from '../../../lib/gateway/events/gateway-event.js';
import { silentLogger } from '../../../lib/gateway/logger.js';
import { ShardState } from '../../../lib/gateway/shard/shard-state.js';

function setup() {
  const events: GatewayEvent[] = [];
  let readyCalls = 0;
  const readiness = new ClusterReadiness(
    { deliver: (event) => events.push(event) },
    () => readyCalls++,
    silentLogger,
  );
  return { readiness, events, readyCalls: () => readyCalls };
}

const active = { state: ShardState.Active };
const resuming = { state: ShardState.Resuming };
const guilds = (guildCount: number, unavailable: string[] = []) => ({
  guildCount,
  unavailable,
  timedOut: false,
});

describe('ClusterReadiness (CLUSTER_READY, CLUSTER_GUILDS_READY)', () => {
  it('CLUSTER_READY once every shard is Active at once, then never again', () => {
    const { readiness, events, readyCalls } = setup();
    readiness.checkReady([active, resuming], [4, 5]);
    expect(events).toEqual([]);
    readiness.checkReady([active, active], [4, 5]);
    readiness.checkReady([active, active], [4, 5]);
    expect(events).toEqual([
      { shardId: 4, type: 'CLUSTER_READY', data: { shardIds: [4, 5] }, sequence: null },
    ]);
    expect(readyCalls()).toBe(1);
  });

  it('CLUSTER_GUILDS_READY waits for CLUSTER_READY and every shard, sums guilds; a resumed shard counts as done', () => {
    const { readiness, events } = setup();
    readiness.onShardGuildsReady(0, guilds(3, ['10']));
    readiness.checkGuildsReady([0, 1]);
    expect(events).toEqual([]); // not before CLUSTER_READY
    readiness.onShardResumed(1);
    readiness.checkReady([active, active], [0, 1]);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['CLUSTER_READY', { shardIds: [0, 1] }],
      ['CLUSTER_GUILDS_READY', { guildCount: 3, unavailable: ['10'] }],
    ]);
    readiness.checkGuildsReady([0, 1]);
    expect(events).toHaveLength(2);
  });

  it('a resumed shard that already reported its guilds keeps them', () => {
    const { readiness, events } = setup();
    readiness.onShardGuildsReady(0, guilds(7));
    readiness.onShardResumed(0);
    readiness.checkReady([active], [0]);
    expect(events[1]?.data).toEqual({ guildCount: 7, unavailable: [] });
  });
});
