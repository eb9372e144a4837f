import { jest } from '@jest/globals';
import type { GatewayEvent } from '../../lib/gateway/events/gateway-event.js';
import { Shard } from '../../lib/gateway/shard/shard.js';
import {
  FakeGateway,
  type FakeGatewayProcess,
  type RecordSnapshot,
  type RemoteGatewayOptions,
} from '../../lib/testing/index.js';
import { captureLogger, instantQueue, type CapturedLogs } from '../gateway/shard/helpers.js';
import { count, NETWORK, startNetworkGateway, until } from './support.js';

jest.setTimeout(60_000);

/** Discord's 41,250 ms heartbeat scaled down to 1 s (the shard's default HELLO floor). */
const INTERVAL_MS = 1_000;
/**
 * What the gateway's stamps may add to a bound the client keeps on its own clock: the inbound
 * jitter, a timer of the client firing late and a new connection's upgrade on a loaded
 * machine. A client one beat late is a whole interval late, so it still fails.
 */
const SLACK_MS = NETWORK.inbound!.jitterMs! + 280;

/** The longest a gateway frame is in transit to the client. */
const OUTBOUND_TRANSIT_MS = NETWORK.outbound!.delayMs! + NETWORK.outbound!.jitterMs!;

type ConnectionSnapshot = RecordSnapshot<'connections'>[number];

/** Arrival stamps (the gateway's clock) of the client heartbeats the gateway read. */
const beats = (connection: ConnectionSnapshot): number[] =>
  connection.received.filter((p) => p.op === 1).map((p) => p.at);

let gw: FakeGatewayProcess | undefined;
let shard: Shard | undefined;
afterEach(async () => {
  await shard?.close();
  shard = undefined;
  await gw?.stop();
  gw = undefined;
});

interface Started {
  events: GatewayEvent[];
  logs: CapturedLogs;
  guildId: string;
}

/** A gateway process with jitter on the path and one shard connected to it, guilds-ready. */
async function start(options: RemoteGatewayOptions = {}): Promise<Started> {
  gw = await startNetworkGateway({
    heartbeatIntervalMs: INTERVAL_MS,
    traffic: { guildCount: 2 },
    ...options,
  });
  const logs = captureLogger();
  shard = new Shard(
    {
      token: FakeGateway.defaultToken,
      intents: ['Guilds'],
      gatewayUrl: gw.url,
      compression: 'none',
      // The fake's send window at a 1 s interval (60_000 * 1_000 / 41_250).
      limits: { commandWindowMs: 1_455, commandMarginMs: 100 },
      timeouts: { guildsReadyMs: 5_000 },
    },
    { queue: instantQueue, logger: logs },
  );
  const events: GatewayEvent[] = [];
  shard.addListener((event) => events.push(event));
  await shard.connect();
  await until(() => count(events, 'SHARD_GUILDS_READY') === 1, 20_000, 'guilds-ready');
  const ready = events.find((e) => e.type === 'READY');
  return { events, logs, guildId: (ready!.data as { guilds: { id: string }[] }).guilds[0]!.id };
}

/** Sends CHANNEL_CREATEs through the gateway every `everyMs` real ms until stopped. */
function flow(guildId: string, everyMs: number) {
  const sent: string[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const id = String(800_000_000_000_000_000n + BigInt(sent.length));
      sent.push(id);
      await gw!.gateway('dispatch', 'CHANNEL_CREATE', {
        id,
        guild_id: guildId,
        type: 0,
        name: `c-${sent.length}`,
      });
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    sent,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/**
 * The dispatches the shard delivered: every sequence from 1 to the last the gateway sent on
 * any connection, once each and in order, and the CHANNEL_CREATEs exactly as sent.
 */
async function expectEveryDispatchOnce(events: GatewayEvent[], sent: string[]): Promise<void> {
  const connections = await gw!.record('connections');
  const last = Math.max(...connections.flatMap((c) => c.sent.map((p) => p.s ?? 0)));
  await until(
    () => events.some((e) => e.sequence === last),
    10_000,
    `the dispatch with sequence ${last}`,
  );
  const sequences = events.filter((e) => e.sequence !== null).map((e) => e.sequence);
  expect(sequences).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  const channels = events
    .filter((e) => e.type === 'CHANNEL_CREATE')
    .map((e) => (e.data as { id: string }).id);
  expect(channels).toEqual(sent);
}

describe('liveness judged at the gateway, in its own process, with jitter on the path (GW-HB-4, GW-GT-7)', () => {
  // Wrong clients this fails: one that counts any frame as proof of life (never closes); one
  // that tolerates a third missed ACK, or starts counting one beat late (closed 3 intervals
  // after the first un-ACKed beat); one that closes with 1000 (the session ends, no RESUME);
  // one that identifies again (the dispatches sent meanwhile are lost).
  it('ACK-starved while frames flow after guilds-ready: closed (not 1000/1001) within 2 intervals of the first un-ACKed beat, then one RESUME, no dispatch lost or duplicated', async () => {
    const { events, logs, guildId } = await start();
    // One beat ACKed after guilds-ready, so that the starvation starts on a steady connection.
    const acked = await gw!.waitFor('connections', (list) => list[0]!.acks >= 1 && list[0]);
    await gw!.connection(0, 'stopAcking');
    const stream = flow(guildId, 100);
    await until(() => count(events, 'SHARD_RESUMED') === 1, 10 * INTERVAL_MS, 'RESUMED');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stream.stop();

    const [starved, resumed, ...more] = await gw!.record('connections');
    expect(more).toEqual([]);
    // Beats are ACKed in the order they arrive: the first un-ACKed one follows the last ACK.
    const firstUnacked = beats(starved!)[starved!.acks]!;
    expect(starved!.acks).toBeGreaterThanOrEqual(acked.acks);
    expect(firstUnacked).toEqual(expect.any(Number));
    expect(starved!.closedBy).toBe('client');
    expect([1000, 1001]).not.toContain(starved!.clientCloseCode);
    expect(starved!.closedAt! - firstUnacked).toBeLessThanOrEqual(2 * INTERVAL_MS + SLACK_MS);
    // Frames kept arriving on it until the end: the starvation, not silence, ended it.
    const lastFrame = Math.max(...starved!.sent.map((p) => p.at));
    expect(starved!.closedAt! - lastFrame).toBeLessThan(INTERVAL_MS);
    expect(starved!.heartbeats - starved!.acks).toBeLessThanOrEqual(2);

    expect(resumed!.auth).toBe('resume');
    expect((await gw!.record('resumes')).map((r) => [r.outcome, r.sessionId])).toEqual([
      ['resumed', starved!.sessionId],
    ]);
    expect(await gw!.record('identifies')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'SHARD_DISCONNECTED').map((e) => e.data)).toEqual([
      expect.objectContaining({ cause: 'ack-timeout', next: 'resume' }),
    ]);
    expect(logs.text()).toMatch(/ack-timeout/);
    expect(stream.sent.length).toBeGreaterThan(10);
    await expectEveryDispatchOnce(events, stream.sent);
  });

  // Wrong clients this fails: one that counts only ACKs (@discordjs/ws, serenity: closed at
  // the second beat); one that bounds missed ACKs from HELLO on (closed 2 intervals into the
  // backlog).
  it('a start-up GUILD_CREATE backlog longer than 2 intervals, no ACK at all: the connection is kept', async () => {
    gw = await startNetworkGateway({
      heartbeatIntervalMs: INTERVAL_MS,
      traffic: { guildCount: 8 },
      // One GUILD_CREATE every half interval: the backlog lasts 4 intervals.
      connection: { ackForm: 'none', guildCreateIntervalMs: INTERVAL_MS / 2 },
    });
    const events: GatewayEvent[] = [];
    shard = new Shard(
      {
        token: FakeGateway.defaultToken,
        intents: ['Guilds'],
        gatewayUrl: gw.url,
        compression: 'none',
        limits: { commandWindowMs: 1_455, commandMarginMs: 100 },
        timeouts: { guildsReadyMs: 5_000 },
      },
      { queue: instantQueue, logger: captureLogger() },
    );
    shard.addListener((event) => events.push(event));
    await shard.connect();
    await until(() => count(events, 'SHARD_GUILDS_READY') === 1, 20_000, 'guilds-ready');
    expect(events.filter((e) => e.type === 'SHARD_DISCONNECTED').map((e) => e.data)).toEqual([]);
    // The backlog is over: ACKs come again, so the connection has no reason to end.
    await gw.connection(0, 'startAcking');
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS));

    const connections = await gw.record('connections');
    expect(connections).toHaveLength(1);
    const [connection] = connections;
    expect(connection!.closedAt).toBeNull();
    const guildCreates = connection!.sent.filter((p) => p.t === 'GUILD_CREATE').map((p) => p.at);
    expect(guildCreates).toHaveLength(8);
    const lastGuild = Math.max(...guildCreates);
    // At the gateway: the backlog outlasted 2 intervals after the first un-ACKed beat, and
    // more than maxMissedAcks beats went un-ACKed while it arrived.
    const beatStamps = beats(connection!);
    expect(lastGuild - beatStamps[0]!).toBeGreaterThan(2 * INTERVAL_MS);
    expect(beatStamps.filter((at) => at < lastGuild).length).toBeGreaterThan(2);
    expect(connection!.acks).toBeLessThan(connection!.heartbeats);
    expect(count(events, 'SHARD_DISCONNECTED')).toBe(0);
    expect(events.find((e) => e.type === 'SHARD_GUILDS_READY')!.data).toMatchObject({
      guildCount: 8,
      timedOut: false,
    });
  });

  // Wrong clients this fails: one that treats silence like missing ACKs and tolerates
  // maxMissedAcks of them (a beat late); one that waits for the close handshake the frozen
  // gateway never answers, or for TCP to notice (far later).
  it('a frozen connection (true zombie) is detected at the next beat and resumed, nothing lost', async () => {
    const { events, guildId } = await start();
    await gw!.waitFor('connections', (list) => list[0]!.acks >= 2);
    // Freezing drops what is in transit: let the last ACK reach the client first.
    await new Promise((resolve) => setTimeout(resolve, 5 * OUTBOUND_TRANSIT_MS));
    await gw!.connection(0, 'freeze');
    // Sent while frozen: they never leave the gateway, so only the RESUME's replay brings them.
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = String(810_000_000_000_000_000n + BigInt(i));
      sent.push(id);
      await gw!.gateway('dispatch', 'CHANNEL_CREATE', { id, guild_id: guildId, type: 0 });
    }
    await until(() => count(events, 'SHARD_RESUMED') === 1, 10 * INTERVAL_MS, 'RESUMED');

    const [frozen, resumed] = await gw!.record('connections');
    // Every beat the gateway read was ACKed: the first un-ACKed beat is the next one the
    // client sent, one interval after the last read; the zombie is found one beat later.
    expect(frozen!.acks).toBe(frozen!.heartbeats);
    const lastRead = Math.max(...beats(frozen!));
    expect(resumed!.openedAt - lastRead).toBeLessThanOrEqual(2 * INTERVAL_MS + SLACK_MS);
    expect(resumed!.openedAt - lastRead).toBeGreaterThan(INTERVAL_MS);
    expect(resumed!.auth).toBe('resume');
    expect((await gw!.record('resumes')).map((r) => r.outcome)).toEqual(['resumed']);
    expect(events.filter((e) => e.type === 'SHARD_DISCONNECTED').map((e) => e.data)).toEqual([
      expect.objectContaining({ cause: 'zombie', next: 'resume' }),
    ]);
    await expectEveryDispatchOnce(events, sent);
  });
});
