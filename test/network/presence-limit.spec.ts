import { jest } from '@jest/globals';
import type { GatewayEvent } from '../../lib/gateway/events/gateway-event.js';
import { Shard } from '../../lib/gateway/shard/shard.js';
import { FakeGateway, type FakeGatewayProcess } from '../../lib/testing/index.js';
import { instantQueue } from '../gateway/shard/helpers.js';
import { count, peakInWindow, startNetworkGateway, until } from './support.js';

jest.setTimeout(120_000);

/**
 * Discord's limits scaled by 1/20: 5 presence updates per 1_000 ms (20 s), 120 payloads per
 * 3_000 ms (60 s), a 2_063 ms heartbeat (41_250 ms). The client's margins are 250 ms,
 * generous at this scale because a gateway process starved of CPU on a loaded machine stamps
 * some frames late.
 */
const PRESENCE_WINDOW_MS = 1_000;
const PRESENCE_LIMIT = 5;
const SEND_WINDOW_MS = 3_000;
const SHARDS = 4;
const BURST = 30;

describe('presence updates judged at the server, with jitter on the path (GW-RL-4)', () => {
  let gw: FakeGatewayProcess | undefined;
  const shards: Shard[] = [];

  afterEach(async () => {
    await Promise.all(shards.splice(0).map((shard) => shard.close()));
    await gw?.stop();
    gw = undefined;
  });

  // Wrong clients this fails: a presence limiter that releases the next update exactly one
  // window after its own send stamp (presenceMarginMs 0), and one that paces op 3 with the
  // send limit alone (30 updates go out at once).
  it(`${BURST} presence updates at once on each of ${SHARDS} connections: never more than ${PRESENCE_LIMIT} in any window span at the server, all sent in order`, async () => {
    gw = await startNetworkGateway({
      shards: SHARDS,
      maxConcurrency: SHARDS,
      heartbeatIntervalMs: 2_063,
      sendLimit: { limit: 120, windowMs: SEND_WINDOW_MS },
      presenceLimit: { limit: PRESENCE_LIMIT, windowMs: PRESENCE_WINDOW_MS },
      traffic: { guildCount: SHARDS },
    });
    const events: GatewayEvent[] = [];
    for (let id = 0; id < SHARDS; id++) {
      const shard = new Shard(
        {
          token: FakeGateway.defaultToken,
          intents: ['Guilds'],
          gatewayUrl: gw.url,
          compression: 'none',
          shardId: id,
          shardCount: SHARDS,
          limits: {
            commandWindowMs: SEND_WINDOW_MS,
            commandMarginMs: 250,
            presenceWindowMs: PRESENCE_WINDOW_MS,
            presenceMarginMs: 250,
          },
        },
        { queue: instantQueue },
      );
      shard.addListener((event) => events.push(event));
      shards.push(shard);
    }
    await Promise.all(shards.map((shard) => shard.connect()));
    await until(() => count(events, 'READY') === SHARDS, 10_000, 'every READY');

    await Promise.all(
      shards.map((shard) =>
        Promise.all(
          Array.from({ length: BURST }, (_, i) =>
            shard.updatePresence({
              status: 'online',
              activities: [{ name: `presence ${i}`, type: 0 }],
            }),
          ),
        ),
      ),
    );

    // A send resolves when the frame is on the socket; the gateway reads it after its transit.
    const connections = await gw.waitFor('connections', (list) =>
      list.some((c) => c.closedAt !== null) ||
      list.every((c) => c.received.filter((p) => p.op === 3).length === BURST)
        ? list
        : null,
    );
    expect(await gw.record('violations')).toEqual([]);
    expect(connections).toHaveLength(SHARDS);
    for (const connection of connections) {
      expect(connection.closedAt).toBeNull();
      const presences = connection.received.filter((p) => p.op === 3);
      expect(
        peakInWindow(
          presences.map((p) => p.at),
          PRESENCE_WINDOW_MS,
        ),
      ).toBeLessThanOrEqual(PRESENCE_LIMIT);
      expect(
        presences.map((p) => (p.d as { activities: { name: string }[] }).activities[0]!.name),
      ).toEqual(Array.from({ length: BURST }, (_, i) => `presence ${i}`));
    }
    expect(count(events, 'SHARD_DISCONNECTED')).toBe(0);
  });
});
