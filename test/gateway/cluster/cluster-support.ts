import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import { Cluster, type ClusterDeps } from '../../../lib/gateway/cluster/cluster.js';
import type { ClusterOptions } from '../../../lib/gateway/config/index.js';
import { silentLogger } from '../../../lib/gateway/logger.js';
import { ShardState } from '../../../lib/gateway/shard/shard-state.js';
import { FakeGateway } from '../../../lib/testing/index.js';
import type { FakeGatewayOptions } from '../../../lib/testing/index.js';

/** Real milliseconds to let loopback I/O settle between two clock steps. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A FakeGateway and a cluster on one ManualClock. The heartbeat interval is long and the
 * client's jitter near 1, so no heartbeat timer moves the clock during a startup test.
 */
export async function startFake(
  options: FakeGatewayOptions = {},
): Promise<{ fake: FakeGateway; clock: ManualClock }> {
  const clock = new ManualClock();
  const fake = await FakeGateway.start({ clock, heartbeatIntervalMs: 600_000, ...options });
  return { fake, clock };
}

export function createCluster(
  fake: FakeGateway,
  clock: ManualClock,
  options: Partial<ClusterOptions> = {},
  deps: ClusterDeps = {},
): Cluster {
  return new Cluster(
    {
      token: FakeGateway.defaultToken,
      intents: ['Guilds'],
      apiUrl: fake.apiUrl,
      gatewayUrl: fake.url,
      ...options,
    },
    { clock, logger: silentLogger, random: () => 0.99, ...deps },
  );
}

/**
 * Waits in real time until `condition` holds (I/O that does not need the clock); `refresh`
 * runs before each check.
 */
export async function until(
  condition: () => boolean,
  timeoutMs = 15_000,
  refresh: () => Promise<void> = async () => {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await refresh();
    if (condition()) return;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(2);
  }
}

/** Whether every shard of the cluster waits in the identify queue or is already Active. */
export function allQueuedOrActive(cluster: Cluster, expected: number): boolean {
  if (cluster.shardIds.length !== expected) return false;
  return cluster
    .info()
    .every(
      (info) =>
        info.state === ShardState.Identifying ||
        info.state === ShardState.Resuming ||
        info.state === ShardState.Active,
    );
}

/** Drives the clock in `stepMs` steps, with real time for I/O in between, until `promise` settles. */
export async function driveUntilSettled<T>(
  clock: ManualClock,
  promise: Promise<T>,
  stepMs = 100,
): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => {
    settled = true;
  });
  watched.catch(() => undefined);
  await clock.advanceUntil(() => settled, { stepMs, realWaitMs: 5, maxMs: 600_000 });
  return watched;
}
