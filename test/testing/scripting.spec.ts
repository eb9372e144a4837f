import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayIntentBits } from 'discord-api-types/v10';
import { ManualClock } from '../../lib/gateway/clock/manual-clock.js';
import { FakeGateway } from '../../lib/testing/index.js';
import { RawClient, type Received } from './raw-client.js';

const token = FakeGateway.defaultToken;

describe('FakeGateway scripting and fault injection', () => {
  let gw: FakeGateway;
  const clients: RawClient[] = [];
  const connect = async (base = gw.url): Promise<RawClient> => {
    const client = await RawClient.connect(base);
    clients.push(client);
    return client;
  };
  const identified = async (): Promise<{ client: RawClient; ready: Received }> => {
    const client = await connect();
    await client.next(10);
    client.identify(token, { intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages });
    const ready = await client.next(0, 'READY');
    await client.until(() => client.dispatches().length === 1 + ready.d.guilds.length);
    return { client, ready };
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await gw?.stop();
  });

  it('GW-LC-1 / GW-GT-18: op 7 instead of HELLO on the next connection, closed after a delay', async () => {
    gw = await FakeGateway.start();
    gw.nextConnections({ onConnect: 'reconnect', closeAfterReconnectMs: 20 });
    const first = await connect();
    const reconnect = await first.until(() => first.received[0]);
    expect(reconnect.text).toBe('{"t":null,"s":null,"op":7,"d":null}');
    expect((await first.closed).code).toBe(4000);
    const second = await connect();
    expect((await second.next(10)).op).toBe(10);
  });

  it('GW-GT-1: refuses upgrades with 503 for a count, and the resume listener can be dead for a while', async () => {
    const clock = new ManualClock();
    gw = await FakeGateway.start({ clock });
    gw.refuseUpgrades({ count: 2 });
    await expect(connect()).rejects.toThrow('HTTP 503');
    await expect(connect()).rejects.toThrow('HTTP 503');
    await (await connect()).next(10);
    gw.refuseUpgrades({ listener: 'resume', durationMs: 10_000 });
    await expect(connect(gw.resumeUrl)).rejects.toThrow('HTTP 503');
    await (await connect(gw.url)).next(10);
    await clock.advance(10_000);
    await (await connect(gw.resumeUrl)).next(10);
    expect(gw.record.upgrades.map((u) => [u.listener, u.outcome, u.status])).toEqual([
      ['base', 'refused', 503],
      ['base', 'refused', 503],
      ['base', 'accepted', null],
      ['resume', 'refused', 503],
      ['base', 'accepted', null],
      ['resume', 'accepted', null],
    ]);
  });

  it('GW-GT-10: delays the upgrade and HELLO, and can withhold READY (ManualClock)', async () => {
    const clock = new ManualClock();
    gw = await FakeGateway.start({ clock });
    gw.delayUpgrades({ delayMs: 3_000 });
    const pending = connect();
    await gw.waitFor((r) => r.upgrades.length === 1);
    await clock.advance(2_999);
    expect(gw.record.connections).toHaveLength(0);
    await clock.advance(1);
    await (await pending).next(10);
    expect(gw.record.upgrades[0].delayedMs).toBe(3_000);

    gw.nextConnections({ helloDelayMs: 25_000, withholdReady: true });
    const slow = await connect();
    await clock.advance(24_000);
    expect(slow.received).toHaveLength(0);
    await clock.advance(1_000);
    await slow.next(10);
    slow.identify(token);
    await clock.advance(60_000);
    expect(slow.dispatches()).toHaveLength(0);
    expect(gw.record.identifies.at(-1)).toMatchObject({ outcome: 'accepted' });
  });

  it('GW-HB-5: records whether the client answered a server op 1 in time', async () => {
    const clock = new ManualClock();
    gw = await FakeGateway.start({ clock, heartbeatRequestDeadlineMs: 1_000 });
    const { client } = await identified();
    const connection = gw.connectionFor(0)!;
    const answered = connection.requestHeartbeat();
    const request = await client.next(1);
    expect(request.d).toBeNull();
    client.send({ op: 1, d: 3 });
    await gw.waitFor(() => answered.answeredAt !== null);
    expect(answered.inTime).toBe(true);
    const ignored = connection.requestHeartbeat();
    await clock.advance(1_000);
    expect(ignored.inTime).toBe(false);
    expect(gw.record.violationsOf('heartbeat-request-unanswered')).toHaveLength(1);
    expect(gw.record.heartbeatRequests).toEqual([answered, ignored]);
  });

  it('GW-HB-4: stopAcking makes a zombie; startAcking answers again', async () => {
    gw = await FakeGateway.start();
    const { client } = await identified();
    const connection = gw.connectionFor(0)!;
    connection.stopAcking();
    client.send({ op: 1, d: 1 });
    await gw.waitFor((r) => r.connections[0].heartbeats === 1);
    connection.startAcking('bare');
    client.send({ op: 1, d: 1 });
    await client.next(11);
    expect(client.received.filter((p) => p.op === 11)).toHaveLength(1);
    expect(gw.record.connections[0]).toMatchObject({ heartbeats: 2, acks: 1 });
  });

  it('closes with any code; the record tells who closed and how', async () => {
    gw = await FakeGateway.start();
    const { client } = await identified();
    gw.connectionFor(0)!.close(4000, 'scripted');
    expect(await client.closed).toEqual({ code: 4000, reason: 'scripted' });
    await gw.waitFor((r) => r.connections[0].closedAt !== null);
    expect(gw.record.connections[0]).toMatchObject({
      closedBy: 'server',
      serverCloseCode: 4000,
      clientCloseCode: null,
    });
    expect(gw.sessions()).toHaveLength(1);
  });

  it('injects malformed frames, unsequenced, so the session sequence is untouched', async () => {
    gw = await FakeGateway.start();
    const { client } = await identified();
    const connection = gw.connectionFor(0)!;
    const seq = connection.session!.seq;
    const before = client.received.length;
    connection.sendMalformed('bad-json');
    connection.sendMalformed('wrong-shape');
    connection.sendMalformed('unknown-op');
    connection.sendMalformed('dispatch-without-t');
    connection.sendMalformed('dispatch-without-s');
    connection.sendMalformed('seq-backwards');
    connection.sendMalformed('invalid-utf8');
    connection.sendMalformed('binary-garbage');
    await client.until(() => client.received.length === before + 8);
    const texts = client.received.slice(before).map((p) => p.text);
    expect(texts[0]).toBe('{"t":"MESSAGE_CREATE","s":');
    expect(texts[1]).toBe('{"op":"0","d":[]}');
    expect(JSON.parse(texts[2])).toMatchObject({ op: 99 });
    expect(JSON.parse(texts[3]).t).toBeNull();
    expect(JSON.parse(texts[3]).s).toBe(seq + 1);
    expect(JSON.parse(texts[4])).not.toHaveProperty('s');
    expect(JSON.parse(texts[5]).s).toBeLessThan(seq);
    expect(texts[6]).toContain('\ufffd');
    expect(connection.session!.seq).toBe(seq + 1);
    const huge = connection.sendMalformed('huge', { bytes: 2 * 1024 * 1024 });
    expect(huge).toBe(seq + 2);
    const big = await client.waitFor((p) => p.s === seq + 2);
    expect(big.text.length).toBeGreaterThan(2 * 1024 * 1024);
  });

  it('replays a JSON-lines recording into a session, renumbering sequences, skipping READY and non-dispatches', async () => {
    gw = await FakeGateway.start();
    const { client } = await identified();
    const dir = await mkdtemp(join(tmpdir(), 'fake-gateway-'));
    const file = join(dir, 'capture.jsonl');
    const guild = gw.traffic.guilds[0].id;
    const lines = [
      { op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null },
      { op: 0, t: 'READY', s: 1, d: { session_id: 'x' } },
      { op: 0, t: 'MESSAGE_CREATE', s: 40, d: { id: '1', guild_id: guild, content: 'first' } },
      { op: 11, d: null, s: null, t: null },
      { op: 0, t: 'SOME_FUTURE_EVENT', s: 41, d: { guild_id: guild, x: 1 } },
    ];
    await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const seq = gw.sessionFor(0)!.seq;
    expect(await gw.replay(file, { shardId: 0 })).toBe(2);
    await client.until(() => client.dispatches().length >= 2 + gw.traffic.guilds.length);
    const replayed = client.dispatches().slice(-2);
    expect(replayed.map((p) => [p.s, p.t, p.d])).toEqual([
      [seq + 1, 'MESSAGE_CREATE', lines[2].d],
      [seq + 2, 'SOME_FUTURE_EVENT', lines[4].d],
    ]);
    await expect(gw.replay(['{"op":0', ''], { shardId: 0 })).rejects.toThrow(
      'recording line 1: not JSON',
    );
    await expect(gw.replay([], { shardId: 5 })).rejects.toThrow('no active session');
    await rm(dir, { recursive: true });
  });
});
