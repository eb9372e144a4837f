import { jest } from '@jest/globals';
import type { GatewayEvent } from '../../lib/gateway/events/gateway-event.js';
import { Shard } from '../../lib/gateway/shard/shard.js';
import { FakeGateway, type FakeGatewayProcess } from '../../lib/testing/index.js';
import { instantQueue } from '../gateway/shard/helpers.js';
import { count, peakInWindow, startNetworkGateway, until } from './support.js';

jest.setTimeout(120_000);

/**
 * Discord's send limit scaled by 1/60: 120 payloads per 1_000 ms at a 688 ms heartbeat
 * (41_250 / 60), as the FakeGateway judges it: at arrival, in any span, heartbeats included.
 */
const WINDOW_MS = 1_000;
const INTERVAL_MS = 688;
const LIMIT = 120;
const SHARDS = 4;
const ROUNDS = 5;
const BURST = 300;

describe('send limit judged at the server, with jitter on the path (GW-RL-1, GW-GT-14)', () => {
  let gw: FakeGatewayProcess | undefined;
  const shards: Shard[] = [];

  afterEach(async () => {
    await Promise.all(shards.splice(0).map((shard) => shard.close()));
    await gw?.stop();
    gw = undefined;
  });

  // Wrong clients this fails: a limiter that releases the next batch exactly one window after
  // its own send stamps (commandMarginMs 0, the 4008: checked, the gateway closed
  // connections with 4008), one that drops commands from a full queue, and one that reorders them.
  it(`${BURST} commands at once, ${SHARDS * ROUNDS} times (${ROUNDS} in a row on each of ${SHARDS} connections): never more than ${LIMIT} in any window span at the server, all sent in order`, async () => {
    gw = await startNetworkGateway({
      shards: SHARDS,
      maxConcurrency: SHARDS,
      heartbeatIntervalMs: INTERVAL_MS,
      heartbeatGraceMs: 5_000,
      sendLimit: { limit: LIMIT, windowMs: WINDOW_MS },
      traffic: { guildCount: 2 * SHARDS },
    });
    const events: GatewayEvent[] = [];
    for (let id = 0; id < SHARDS; id++) {
      const shard = new Shard(
        {
          token: FakeGateway.defaultToken,
          intents: ['Guilds', 'GuildVoiceStates'],
          gatewayUrl: gw.url,
          compression: 'none',
          shardId: id,
          shardCount: SHARDS,
          // The margin scaled for a loaded machine: 25% of the window.
          limits: { commandWindowMs: WINDOW_MS, commandMarginMs: 250 },
        },
        { queue: instantQueue },
      );
      shard.addListener((event) => events.push(event));
      shards.push(shard);
    }
    await Promise.all(shards.map((shard) => shard.connect()));
    await until(() => count(events, 'READY') === SHARDS, 10_000, 'every READY');
    const guildOf = new Map<number, string>();
    for (const event of events)
      if (event.type === 'READY') guildOf.set(event.shardId, event.data.guilds[0]!.id);

    // Each burst starts as soon as the previous one is sent, so bursts meet the limiter's
    // own window edges as well as the gateway's.
    await Promise.all(
      shards.map(async (shard) => {
        for (let round = 0; round < ROUNDS; round++) {
          const burst: Promise<void>[] = [];
          for (let i = 0; i < BURST; i++) {
            burst.push(
              shard.updateVoiceState({
                guild_id: guildOf.get(shard.id)!,
                channel_id: String(1_000_000 + round * BURST + i),
              }),
            );
          }
          await Promise.all(burst);
        }
      }),
    );

    // A send resolves when the frame is on the socket; the gateway reads it after its transit.
    // A connection the gateway closed (4008) ends the wait at once.
    const connections = await gw.waitFor('connections', (list) =>
      list.some((c) => c.closedAt !== null) ||
      list.every((c) => c.received.filter((p) => p.op === 4).length === ROUNDS * BURST)
        ? list
        : null,
    );
    const violations = await gw.record('violations');
    expect(violations.filter((v) => v.kind === 'send-limit')).toEqual([]);
    expect(connections).toHaveLength(SHARDS);
    for (const connection of connections) {
      expect([connection.serverCloseCode, connection.closedAt]).toEqual([null, null]);
      expect(connection.maxPayloadsInWindow).toBeLessThanOrEqual(LIMIT);
      expect(
        peakInWindow(
          connection.received.map((p) => p.at),
          WINDOW_MS,
        ),
      ).toBeLessThanOrEqual(LIMIT);
      const sent = connection.received
        .filter((p) => p.op === 4)
        .map((p) => Number((p.d as { channel_id: string }).channel_id) - 1_000_000);
      expect(sent).toEqual(Array.from({ length: ROUNDS * BURST }, (_, i) => i));
    }
    expect(count(events, 'SHARD_DISCONNECTED')).toBe(0);
  });
});
