import { GatewayCloseCodes } from 'discord-api-types/v10';
import { ManualClock } from '../../lib/gateway/clock/manual-clock.js';
import { FakeGateway, FakeGatewayProcess } from '../../lib/testing/index.js';
import { RawClient } from './raw-client.js';

const token = FakeGateway.defaultToken;

describe('FakeGateway network model and time judged at arrival', () => {
  let gw: FakeGateway | undefined;
  const clients: RawClient[] = [];
  const connect = async (): Promise<RawClient> => {
    const client = await RawClient.connect(gw!.url);
    clients.push(client);
    return client;
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await gw?.stop();
    gw = undefined;
  });

  it('inbound: each client frame is read and stamped after delay + uniform(0, jitter), in order', async () => {
    const clock = new ManualClock(1_000);
    gw = await FakeGateway.start({
      clock,
      network: { inbound: { delayMs: 100, jitterMs: 50 }, seed: 7 },
    });
    const client = await connect();
    await client.next(10);
    for (let i = 0; i < 40; i++) client.send({ op: 1, d: i });
    // Everything is on the gateway's side of the socket, but still in transit.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await clock.advance(99);
    expect(gw.record.connections[0].receivedCount).toBe(0);
    await clock.advance(51);
    await gw.waitFor((r) => r.connections[0].receivedCount === 40);
    const received = gw.record.connections[0].received;
    expect(received.map((p) => p.d)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const stamps = received.map((p) => p.at);
    expect(Math.min(...stamps)).toBeGreaterThanOrEqual(1_100);
    expect(Math.max(...stamps)).toBeLessThanOrEqual(1_150);
    // FIFO: a frame never arrives before the one sent before it.
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]).toBeGreaterThanOrEqual(stamps[i - 1]);
  });

  it('outbound: a server frame reaches the client after its transit delay', async () => {
    const clock = new ManualClock();
    gw = await FakeGateway.start({ clock, network: { outbound: { delayMs: 500 } } });
    const client = await connect();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.received).toHaveLength(0);
    await clock.advance(500);
    expect((await client.next(10)).op).toBe(10);
  });

  it('a close frame follows the frames still in transit', async () => {
    const clock = new ManualClock();
    gw = await FakeGateway.start({ clock, network: { outbound: { delayMs: 200 } } });
    const client = await connect();
    gw.connections[0].close(4000, 'after hello');
    await clock.advance(200);
    expect(await client.closed).toEqual({ code: 4000, reason: 'after hello' });
    expect(client.received.map((p) => p.op)).toEqual([10]);
  });

  it('GW-RL-1: the send window is judged in any span, both ends included (strictest reading)', async () => {
    const clock = new ManualClock();
    gw = await FakeGateway.start({ clock, sendLimit: { limit: 2, windowMs: 1_000 } });
    const client = await connect();
    await client.next(10);
    client.send({ op: 1, d: null });
    await gw.waitFor((r) => r.connections[0].receivedCount === 1);
    await clock.advance(500);
    client.send({ op: 1, d: null });
    await gw.waitFor((r) => r.connections[0].receivedCount === 2);
    // Exactly one window after the first: the span [0, 1000] holds three payloads.
    await clock.advance(500);
    client.send({ op: 1, d: null });
    expect((await client.closed).code).toBe(GatewayCloseCodes.RateLimited);
    expect(gw.record.violationsOf('send-limit')).toHaveLength(1);
  });

  it('GW-RL-2: an IDENTIFY 1 ms inside its bucket window is refused; one at the window is accepted', async () => {
    const clock = new ManualClock();
    gw = await FakeGateway.start({ clock, shards: 2, maxConcurrency: 1, identifyWindowMs: 5_000 });
    const first = await connect();
    await first.next(10);
    first.identify(token, { shard: [0, 2] });
    await first.next(0, 'READY');
    await clock.advance(4_999);
    const early = await connect();
    await early.next(10);
    early.identify(token, { shard: [1, 2] });
    expect((await early.next(9)).d).toBe(false);
    await clock.advance(1);
    const onTime = await connect();
    await onTime.next(10);
    onTime.identify(token, { shard: [1, 2] });
    await onTime.next(0, 'READY');
    expect(
      gw.record.identifies.map((i) => [i.outcome, i.at - gw!.record.identifies[0].at]),
    ).toEqual([
      ['accepted', 0],
      ['rate-limited', 4_999],
      ['accepted', 5_000],
    ]);
  });

  it('freeze(): a true zombie sends nothing, ACKs nothing and never answers the close handshake', async () => {
    gw = await FakeGateway.start({ heartbeatIntervalMs: 100, heartbeatGraceMs: 50 });
    const client = await connect();
    await client.next(10);
    client.identify(token);
    await client.next(0, 'READY');
    const connection = gw.connectionFor(0)!;
    connection.freeze();
    const before = client.received.length;
    client.send({ op: 1, d: 1 });
    gw.dispatch('MESSAGE_CREATE', gw.traffic.messageCreate(gw.traffic.guilds[0], 'lost'));
    client.ws.close(4000);
    // Well past the heartbeat deadline (150 ms): no frame, no 4009, no close frame back.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(client.received.length).toBe(before);
    expect(client.closeCode).toBeNull();
    expect(gw.record.violations).toEqual([]);
    expect(gw.record.connections[0]).toMatchObject({ heartbeats: 0, closedAt: null });
    client.ws.terminate();
    expect((await client.closed).code).toBe(1006);
  });

  it('GW-ENV-4: a client frame over any WebSocket size limit gets 4002 and a violation, not 1009', async () => {
    gw = await FakeGateway.start();
    const client = await connect();
    await client.next(10);
    client.send({ op: 1, d: null, pad: 'x'.repeat(2 * 1024 * 1024) });
    expect((await client.closed).code).toBe(GatewayCloseCodes.DecodeError);
    expect(gw.record.violations).toEqual([
      expect.objectContaining({ kind: 'payload-too-large', closeCode: 4002 }),
    ]);
  });
});

describe('FakeGatewayProcess: a FakeGateway in its own process', () => {
  let gw: FakeGatewayProcess | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  it('serves a client, scripts a connection and hands over its record; stop() ends the child', async () => {
    gw = await FakeGatewayProcess.start({
      heartbeatIntervalMs: 1_000,
      network: { inbound: { delayMs: 5, jitterMs: 10 }, outbound: { jitterMs: 10 } },
    });
    const client = await RawClient.connect(gw.url);
    try {
      await client.next(10);
      client.identify(token);
      await client.next(0, 'READY');
      await gw.connection(0, 'invalidateSession', false);
      expect((await client.next(9)).d).toBe(false);
      const identifies = await gw.record('identifies');
      expect(identifies).toEqual([expect.objectContaining({ outcome: 'accepted', shardId: 0 })]);
      const [connection] = await gw.record('connections');
      expect(connection.received.map((p) => p.op)).toEqual([2]);
      expect(connection.sent.map((p) => p.op)).toEqual(expect.arrayContaining([10, 0, 9]));
      await expect(gw.connection(3, 'freeze')).rejects.toThrow(/shard 3 has no open connection/);
    } finally {
      client.ws.terminate();
    }
    const pid = gw.pid!;
    await gw.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
