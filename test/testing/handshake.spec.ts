import { GatewayCloseCodes, GatewayIntentBits } from 'discord-api-types/v10';
import { ManualClock } from '../../lib/gateway/clock/manual-clock.js';
import { FakeGateway, shardForGuild } from '../../lib/testing/index.js';
import { RawClient } from './raw-client.js';

const token = FakeGateway.defaultToken;

describe('FakeGateway handshake', () => {
  let gw: FakeGateway;
  const clients: RawClient[] = [];
  const connect = async (base = gw.url, query?: string): Promise<RawClient> => {
    const client = await RawClient.connect(base, { query });
    clients.push(client);
    return client;
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await gw?.stop();
  });

  it('GW-HB-1: sends HELLO with the configured interval and an _trace, on a loopback ephemeral port', async () => {
    gw = await FakeGateway.start({ heartbeatIntervalMs: 5_000 });
    expect(gw.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(gw.resumeUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(gw.resumeUrl).not.toBe(gw.url);
    expect(gw.apiUrl).toBe(gw.url.replace('ws:', 'http:') + '/api/v10');
    const client = await connect();
    const hello = await client.next(10);
    expect(hello.d.heartbeat_interval).toBe(5_000);
    expect(Array.isArray(hello.d._trace)).toBe(true);
    expect(hello).toMatchObject({ t: null, s: null });
    const [record] = gw.record.connections;
    expect(record).toMatchObject({
      listener: 'base',
      path: '/',
      query: 'v=10&encoding=json',
      version: 10,
      encoding: 'json',
      compression: null,
    });
  });

  it('GW-ENV-2: ACKs every heartbeat, alternating the wire form and the bare form', async () => {
    gw = await FakeGateway.start();
    const client = await connect();
    await client.next(10);
    client.send({ op: 1, d: null });
    client.send({ op: 1, d: null });
    await client.until(() => client.received.filter((p) => p.op === 11).length === 2);
    const acks = client.received.filter((p) => p.op === 11).map((p) => p.text);
    expect(acks).toEqual(['{"t":null,"s":null,"op":11,"d":null}', '{"op":11}']);
    expect(gw.record.connections[0].heartbeats).toBe(2);
  });

  it('GW-ENV-2: the ACK form is configurable', async () => {
    gw = await FakeGateway.start({ ackForm: 'bare' });
    const client = await connect();
    await client.next(10);
    client.send({ op: 1, d: null });
    client.send({ op: 1, d: 3 });
    await client.until(() => client.received.filter((p) => p.op === 11).length === 2);
    expect(client.received.filter((p) => p.op === 11).map((p) => p.text)).toEqual([
      '{"op":11}',
      '{"op":11}',
    ]);
  });

  it('GW-ID-3, section 7: READY carries the session, the resume URL, the shard and the owned guilds; GUILD_CREATEs follow', async () => {
    gw = await FakeGateway.start({ shards: 2, traffic: { guildCount: 6 } });
    const client = await connect();
    await client.next(10);
    client.identify(token, { shard: [1, 2], intents: GatewayIntentBits.Guilds });
    const ready = await client.next(0, 'READY');
    expect(ready.s).toBe(1);
    expect(ready.d.resume_gateway_url).toBe(gw.resumeUrl);
    expect(ready.d.shard).toEqual([1, 2]);
    expect(typeof ready.d.session_id).toBe('string');
    expect(ready.d.application.id).toBe(gw.traffic.applicationId);
    const owned = gw.traffic.guildsForShard(1, 2).map((g) => g.id);
    expect(owned.length).toBe(3);
    expect(ready.d.guilds).toEqual(owned.map((id) => ({ id, unavailable: true })));
    for (const id of owned) expect(shardForGuild(id, 2)).toBe(1);
    await client.until(() => client.dispatches().length === 1 + owned.length);
    const creates = client.dispatches().slice(1);
    expect(creates.map((p) => p.t)).toEqual(owned.map(() => 'GUILD_CREATE'));
    expect(creates.map((p) => p.d.id)).toEqual(owned);
    expect(creates.map((p) => p.s)).toEqual([2, 3, 4]);
    const identify = gw.record.identifies[0];
    expect(identify).toMatchObject({
      shardId: 1,
      shardCount: 2,
      bucket: 0,
      outcome: 'accepted',
      sessionId: ready.d.session_id,
    });
    const received = gw.record.connections[0].received.find((p) => p.op === 2)!;
    expect((received.d as { token: string }).token).toBe('[token]');
    expect(JSON.stringify(gw.record)).not.toContain(token);
  });

  it('GW-RD-1: unavailable guilds arrive as GUILD_DELETE {unavailable:true} or as an unavailable GUILD_CREATE', async () => {
    const probe = await FakeGateway.start({ traffic: { guildCount: 2 } });
    const down = probe.traffic.guilds[1].id;
    await probe.stop();
    for (const unavailableAs of ['GUILD_DELETE', 'GUILD_CREATE'] as const) {
      gw = await FakeGateway.start({
        traffic: { guildCount: 2 },
        unavailableGuildIds: [down],
        unavailableAs,
      });
      const client = await connect();
      await client.next(10);
      client.identify(token, { intents: GatewayIntentBits.Guilds });
      await client.until(() => client.dispatches().length === 3);
      expect(client.dispatches()[2]).toMatchObject({
        t: unavailableAs,
        d: { id: down, unavailable: true },
      });
      await gw.stop();
    }
  });

  it('GW-GT-11: without the GUILDS intent no GUILD_CREATE follows READY', async () => {
    gw = await FakeGateway.start();
    const client = await connect();
    await client.next(10);
    client.identify(token, { intents: GatewayIntentBits.GuildMessages });
    await client.next(0, 'READY');
    client.send({ op: 1, d: 1 });
    await client.next(11);
    expect(client.dispatches().map((p) => p.t)).toEqual(['READY']);
  });

  it('GW-ID-2 / GW-GT-6: a command before IDENTIFY closes 4003; a heartbeat before IDENTIFY is fine', async () => {
    gw = await FakeGateway.start();
    const client = await connect();
    await client.next(10);
    client.send({ op: 1, d: null });
    await client.next(11);
    client.send({ op: 3, d: { since: null, activities: [], status: 'online', afk: false } });
    expect((await client.closed).code).toBe(GatewayCloseCodes.NotAuthenticated);
    expect(gw.record.violations.map((v) => v.kind)).toEqual(['not-authenticated']);
  });

  it('GW-ID-1: a second IDENTIFY closes 4005', async () => {
    gw = await FakeGateway.start();
    const client = await connect();
    await client.next(10);
    client.identify(token);
    await client.next(0, 'READY');
    client.identify(token);
    expect((await client.closed).code).toBe(GatewayCloseCodes.AlreadyAuthenticated);
    const record = gw.record.connections[0];
    await gw.waitFor(() => record.closedAt !== null);
    expect(record).toMatchObject({ closedBy: 'server', serverCloseCode: 4005 });
  });

  const closes: [string, Record<string, unknown>, Record<string, unknown>, number, string][] = [
    [
      'GW-ID-3: a bad token closes 4004',
      {},
      { token: 'nope' },
      GatewayCloseCodes.AuthenticationFailed,
      'authentication-failed',
    ],
    [
      'GW-ID-3: unknown intent bits close 4013',
      {},
      { intents: 1 << 17 },
      GatewayCloseCodes.InvalidIntents,
      'invalid-intents',
    ],
    [
      'GW-ID-3: privileged intents not granted close 4014',
      { grantedIntents: GatewayIntentBits.GuildMembers },
      { intents: GatewayIntentBits.Guilds | GatewayIntentBits.MessageContent },
      GatewayCloseCodes.DisallowedIntents,
      'disallowed-intents',
    ],
    [
      'GW-ID-3: a shard id out of range closes 4010',
      {},
      { shard: [2, 2] },
      GatewayCloseCodes.InvalidShard,
      'invalid-shard',
    ],
    [
      'GW-ID-3: a malformed shard closes 4010',
      {},
      { shard: [0] },
      GatewayCloseCodes.InvalidShard,
      'invalid-shard',
    ],
    [
      'GW-SH-3: more guilds than a shard may own closes 4011',
      { maxGuildsPerShard: 3, traffic: { guildCount: 4 } },
      {},
      GatewayCloseCodes.ShardingRequired,
      'sharding-required',
    ],
  ];
  it.each(closes)('%s', async (_name, options, fields, code, kind) => {
    gw = await FakeGateway.start(options);
    const client = await connect();
    await client.next(10);
    client.identify((fields.token as string | undefined) ?? token, fields);
    expect((await client.closed).code).toBe(code);
    expect(gw.record.violations.map((v) => v.kind)).toEqual([kind]);
    expect(gw.record.identifies[0]).toMatchObject({ outcome: 'rejected', closeCode: code });
  });

  it('GW-GT-20: the gateway takes the token with one Bot prefix too', async () => {
    gw = await FakeGateway.start();
    const client = await connect();
    await client.next(10);
    client.identify(`Bot ${token}`);
    await client.next(0, 'READY');
  });

  it('GW-ENV-4: undecodable payloads and payloads over 4096 bytes close 4002', async () => {
    gw = await FakeGateway.start();
    const bad = await connect();
    await bad.next(10);
    bad.send('{"op":1,');
    expect((await bad.closed).code).toBe(GatewayCloseCodes.DecodeError);
    const big = await connect();
    await big.next(10);
    big.send({ op: 1, d: null, pad: 'x'.repeat(4_100) });
    expect((await big.closed).code).toBe(GatewayCloseCodes.DecodeError);
    const utf8 = await connect();
    await utf8.next(10);
    utf8.ws.send(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), { binary: false });
    expect((await utf8.closed).code).toBe(GatewayCloseCodes.DecodeError);
    expect(gw.record.violations.map((v) => v.kind)).toEqual([
      'decode-error',
      'payload-too-large',
      'decode-error',
    ]);
  });

  it('GW-ENV-3 / 4001: an unknown opcode from the client closes 4001', async () => {
    gw = await FakeGateway.start();
    const client = await connect();
    await client.next(10);
    client.send({ op: 42, d: null });
    expect((await client.closed).code).toBe(GatewayCloseCodes.UnknownOpcode);
  });

  it('GW-URL-3: an invalid API version closes 4012', async () => {
    gw = await FakeGateway.start();
    const client = await connect(gw.url, 'v=5&encoding=json');
    expect((await client.closed).code).toBe(GatewayCloseCodes.InvalidAPIVersion);
  });

  it('GW-HB-7: a client that stops heartbeating is closed 4009 after interval + grace (ManualClock)', async () => {
    const clock = new ManualClock();
    gw = await FakeGateway.start({ clock, heartbeatIntervalMs: 41_250, heartbeatGraceMs: 5_000 });
    const client = await connect();
    await client.next(10);
    client.identify(token);
    await client.next(0, 'READY');
    await clock.advance(40_000);
    client.send({ op: 1, d: 1 });
    await client.next(11);
    await clock.advance(46_000);
    expect(client.closeCode).toBeNull();
    await clock.advance(300);
    expect((await client.closed).code).toBe(GatewayCloseCodes.SessionTimedOut);
    expect(gw.record.violationsOf('session-timeout')).toHaveLength(1);
    expect(gw.sessions()).toHaveLength(0);
  });

  it('GW-RL-1: counts every payload, heartbeats included, and closes 4008 past the limit', async () => {
    gw = await FakeGateway.start({ sendLimit: { limit: 10, windowMs: 60_000 } });
    const client = await connect();
    await client.next(10);
    for (let i = 0; i < 11; i++) client.send({ op: 1, d: null });
    expect((await client.closed).code).toBe(GatewayCloseCodes.RateLimited);
    const record = gw.record.connections[0];
    expect(record.maxPayloadsInWindow).toBe(11);
    expect(gw.record.violationsOf('send-limit')).toHaveLength(1);
  });

  it('GW-RL-1: the window slides on the clock, so 10 per window (just over one apart) is fine forever', async () => {
    const clock = new ManualClock();
    gw = await FakeGateway.start({ clock, sendLimit: { limit: 10, windowMs: 1_000 } });
    const client = await connect();
    await client.next(10);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) client.send({ op: 1, d: null });
      await client.until(
        () => client.received.filter((p) => p.op === 11).length === 10 * (round + 1),
      );
      // Both ends of a window count (the strictest reading), so one window plus 1 ms.
      await clock.advance(1_001);
    }
    expect(client.closeCode).toBeNull();
    expect(gw.record.connections[0].maxPayloadsInWindow).toBe(10);
  });

  it('GW-RL-1: the default window scales with a short heartbeat interval', async () => {
    gw = await FakeGateway.start({ heartbeatIntervalMs: 4_125 });
    expect(gw.settings.sendLimit).toEqual({ limit: 120, windowMs: 6_000 });
    await gw.stop();
    gw = await FakeGateway.start();
    expect(gw.settings.sendLimit).toEqual({ limit: 120, windowMs: 60_000 });
  });
});
