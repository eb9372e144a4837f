import { jest } from '@jest/globals';
import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import {
  FatalCloseError,
  GatewayTimeoutError,
  PayloadTooLargeError,
  CommandError,
} from '../../../lib/gateway/errors/errors.js';
import { ShardState } from '../../../lib/gateway/shard/shard-state.js';
import { FakeGateway } from '../../../lib/testing/index.js';
import { count, harness, until, type Harness } from './helpers.js';

jest.setTimeout(20_000);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('docs/protocol.md section 18 gotchas, one shard against FakeGateway', () => {
  it('GW-GT-1: resumes on resume_gateway_url with v, encoding and compress re-appended', async () => {
    h = await harness({}, { compression: 'zlib-stream' });
    await h.shard.connect();
    const first = await h.gw.waitForConnection(0);
    first.reconnect();
    await until(() => count(h!.events, 'SHARD_RESUMED') === 1);
    const [base, resume] = h.gw.record.connections;
    expect(base!.listener).toBe('base');
    expect(base!.query).toBe('v=10&encoding=json&compress=zlib-stream');
    expect(resume!.listener).toBe('resume');
    expect(resume!.query).toBe('v=10&encoding=json&compress=zlib-stream');
    expect(resume!.path).toBe('/');
    expect(h.gw.record.resumes.map((r) => r.outcome)).toEqual(['resumed']);
  });

  it('GW-GT-1: op 9 d=false drops the resume URL; the next IDENTIFY goes to the base URL', async () => {
    const clock = new ManualClock();
    h = await harness({ clock }, {}, { random: () => 0 });
    await h.shard.connect();
    (await h.gw.waitForConnection(0)).invalidateSession(false);
    await clock.advanceUntil(() => count(h!.events, 'SHARD_READY') === 2);
    expect(h.gw.record.connections.map((c) => c.listener)).toEqual(['base', 'base']);
    expect(h.gw.record.identifies.map((i) => i.outcome)).toEqual(['accepted', 'accepted']);
  });

  it.each([
    ['ws: to a host that is not loopback', 'ws://192.0.2.2:47111'],
    ['not a WebSocket URL', 'http://192.0.2.2:47111'],
    ['with a path and query', `wss://gateway.example/x?y=1`],
  ])(
    'GW-URL-4: a READY resume_gateway_url %s is refused: ProtocolError, RESUME goes to the base URL',
    async (_case, resumeUrl) => {
      h = await harness();
      await h.shard.connect();
      const conn = await h.gw.waitForConnection(0);
      const session = h.gw.sessions()[0]!;
      // The same session announced again (under the session's next sequence), with a resume
      // URL the token must never be sent to.
      conn.sendRaw(
        JSON.stringify({
          op: 0,
          t: 'READY',
          s: ++session.seq,
          d: { session_id: session.id, resume_gateway_url: resumeUrl, guilds: [] },
        }),
      );
      await until(() => count(h!.events, 'SHARD_READY') === 2);
      const refused = h.data('SHARD_ERROR').map((d) => (d.error as Error).message);
      expect(refused).toEqual([expect.stringMatching(/^READY resume_gateway_url .*gateway URL$/)]);
      expect(h.shard.session!.resumeUrl).toBe('');

      conn.terminate();
      await until(() => count(h!.events, 'SHARD_RESUMED') === 1);
      expect(h.gw.record.resumes.map((r) => [r.outcome, r.listener])).toEqual([
        ['resumed', 'base'],
      ]);
      expect(h.gw.record.connections).toHaveLength(2);
    },
  );

  it('GW-GT-1: a dead resume URL falls back to the base URL after resumeUrlFailures attempts', async () => {
    const clock = new ManualClock();
    h = await harness(
      { clock },
      { reconnect: { resumeUrlFailures: 2, baseDelayMs: 100, maxDelayMs: 400 } },
    );
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    h.gw.refuseUpgrades({ listener: 'resume', count: 10 });
    conn.terminate();
    await clock.advanceUntil(() => count(h!.events, 'SHARD_RESUMED') === 1, { stepMs: 50 });
    const refused = h.gw.record.upgrades.filter((u) => u.outcome === 'refused');
    expect(refused.map((u) => u.listener)).toEqual(['resume', 'resume']);
    const last = h.gw.record.connections[h.gw.record.connections.length - 1]!;
    expect(last.listener).toBe('base');
    expect(h.gw.record.resumes.map((r) => r.outcome)).toEqual(['resumed']);
    expect(h.gw.record.identifies).toHaveLength(1);
  });

  it('GW-GT-2: op 7 and zombie reconnects close with a non-1000 code; close() uses 1000 and ends the session', async () => {
    h = await harness();
    await h.shard.connect();
    (await h.gw.waitForConnection(0)).reconnect();
    await until(() => count(h!.events, 'SHARD_RESUMED') === 1);
    await until(() => h!.gw.record.connections[0]!.closedAt !== null);
    expect(h.gw.record.connections[0]!.clientCloseCode).toBe(4000);
    const session = await h.shard.close();
    expect(session).toBeNull();
    expect(h.shard.session).toBeNull();
    await until(() => h!.gw.record.connections[1]!.closedAt !== null);
    expect(h.gw.record.connections[1]!.clientCloseCode).toBe(1000);
  });

  it('GW-GT-2: close(4000) keeps the session, returns it, and a new shard resumes it', async () => {
    h = await harness();
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    conn.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(h.gw.traffic.guilds[0]!, 'hello'));
    await until(() => count(h!.events, 'MESSAGE_CREATE') === 1);
    const last = h.events.filter((e) => e.sequence !== null).pop()!.sequence!;
    const session = await h.shard.close(4000);
    expect(session).toEqual({
      id: h.gw.record.identifies[0]!.sessionId,
      sequence: last,
      resumeUrl: h.gw.resumeUrl,
    });
    await h.shard.close();
    const next = await harness({}, { gatewayUrl: h.gw.url, session: session! });
    try {
      await next.shard.connect();
      expect(h.gw.record.resumes.map((r) => [r.outcome, r.seq])).toEqual([['resumed', last]]);
      expect(h.gw.record.identifies).toHaveLength(1);
    } finally {
      await next.close();
    }
  });

  it('GW-GT-3: 4007 and 4009 start a new session (IDENTIFY on the base URL), not a RESUME', async () => {
    for (const code of [4007, 4009]) {
      h = await harness();
      await h.shard.connect();
      (await h.gw.waitForConnection(0)).close(code);
      await until(() => count(h!.events, 'SHARD_READY') === 2);
      expect(h.gw.record.identifies).toHaveLength(2);
      expect(h.gw.record.resumes).toHaveLength(0);
      expect(h.gw.record.connections.map((c) => c.listener)).toEqual(['base', 'base']);
      await h.close();
      h = undefined;
    }
  });

  it.each([4004, 4010, 4011, 4012, 4013, 4014])(
    'GW-GT-3: fatal close %i stops the shard: FatallyClosed, FatalCloseError, exactly one connection',
    async (code) => {
      h = await harness();
      const connected = h.shard.connect();
      const conn = await h.gw.waitForConnection(0);
      conn.close(code);
      await until(() => h!.shard.state === ShardState.FatallyClosed);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(h.gw.record.connections).toHaveLength(1);
      const fatal = h.events.find((e) => e.type === 'SHARD_FATAL');
      expect((fatal!.data as any).code).toBe(code);
      expect((fatal!.data as any).error).toBeInstanceOf(FatalCloseError);
      await expect(h.shard.connect()).rejects.toBeInstanceOf(FatalCloseError);
      // Closing it afterwards sends nothing, stores no session, and logs no close code.
      expect(await h.shard.close(4000)).toBeNull();
      expect(h.shard.state).toBe(ShardState.FatallyClosed);
      expect(h.logs.lines.filter((l) => /closed with/.test(l.message))).toEqual([]);
      void connected;
    },
  );

  it('GW-GT-3: a real 4004 (bad token) and 4014 (privileged intents not granted): one attempt, typed error naming the cause', async () => {
    h = await harness({}, { token: 'wrong-token' });
    await expect(h.shard.connect()).rejects.toMatchObject({
      closeCode: 4004,
      message: expect.stringMatching(/authentication failed/),
    });
    expect(h.shard.state).toBe(ShardState.FatallyClosed);
    expect(h.gw.record.connections).toHaveLength(1);
    await h.close();
    h = await harness(
      { grantedIntents: 0 },
      { intents: ['Guilds', 'GuildMembers', 'MessageContent'] },
    );
    const error = await h.shard.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FatalCloseError);
    expect((error as FatalCloseError).closeCode).toBe(4014);
    expect((error as FatalCloseError).privilegedIntents).toEqual([
      'GuildMembers',
      'MessageContent',
    ]);
    expect((error as Error).message).toMatch(/GuildMembers, MessageContent/);
    expect(h.gw.record.connections).toHaveLength(1);
    expect(h.shard.state).toBe(ShardState.FatallyClosed);
  });

  it('GW-GT-4: op 9 d=true resumes; op 9 d=false waits 1-5 s, then identifies a new session', async () => {
    const clock = new ManualClock();
    h = await harness({ clock }, {}, { random: () => 0.5 });
    await h.shard.connect();
    (await h.gw.waitForConnection(0)).invalidateSession(true);
    await clock.advanceUntil(() => count(h!.events, 'SHARD_RESUMED') === 1);
    expect(h.gw.record.resumes.map((r) => r.outcome)).toEqual(['resumed']);
    const before = clock.now();
    (await h.gw.waitForConnection(0)).invalidateSession(false);
    await clock.advanceUntil(() => count(h!.events, 'SHARD_READY') === 2, { stepMs: 100 });
    const second = h.gw.record.identifies[1]!;
    expect(second.at - before).toBeGreaterThanOrEqual(3_000);
    expect(second.at - before).toBeLessThanOrEqual(5_000);
    expect(h.data('SHARD_INVALID_SESSION')).toEqual([{ resumable: true }, { resumable: false }]);
  });

  it('GW-GT-5: heartbeat d is null before any dispatch, then the last s; kept across RESUME; reset by IDENTIFY', async () => {
    const clock = new ManualClock();
    h = await harness({ clock }, {}, { random: () => 0 });
    // Hold IDENTIFY so a heartbeat goes out before any dispatch.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await h.shard.close();
    await h.gw.stop();
    h = await harness({ clock }, {}, { random: () => 0, queue: { enqueue: () => gate } });
    const connected = h.shard.connect();
    await clock.advanceUntil(() => (h!.gw.record.connections[0]?.heartbeats ?? 0) >= 1);
    release();
    await connected;
    const conn = await h.gw.waitForConnection(0);
    for (let i = 0; i < 3; i++)
      conn.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(h.gw.traffic.guilds[0]!, `m${i}`));
    await clock.advanceUntil(() => count(h!.events, 'MESSAGE_CREATE') === 3);
    const last = h.events.filter((e) => e.sequence !== null).pop()!.sequence!;
    expect(h.shard.session!.sequence).toBe(last);
    await clock.advance(1_000);
    const beats = h.gw.record.connections[0]!.received.filter((p) => p.op === 1).map((p) => p.d);
    expect(beats[0]).toBeNull();
    expect(beats[beats.length - 1]).toBe(last);
    conn.terminate();
    await clock.advanceUntil(() => count(h!.events, 'SHARD_RESUMED') === 1);
    expect(h.gw.record.resumes[0]!.seq).toBe(last);
    expect(h.shard.session!.sequence).toBe(last + 1);
    (await h.gw.waitForConnection(0)).invalidateSession(false);
    await clock.advanceUntil(() => count(h!.events, 'SHARD_READY') === 2, { stepMs: 200 });
    // The new session's READY starts again at s = 1 and is delivered (not dropped as old).
    expect(h.events.filter((e) => e.type === 'READY').map((e) => e.sequence)).toEqual([1, 1]);
    expect(h.gw.record.identifies).toHaveLength(2);
  });

  it('GW-GT-6: heartbeats start at HELLO, before IDENTIFY, the first after interval * random', async () => {
    const clock = new ManualClock();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    h = await harness(
      { clock, heartbeatIntervalMs: 41_250 },
      {},
      { random: () => 0.25, queue: { enqueue: () => gate } },
    );
    const connected = h.shard.connect();
    await clock.advanceUntil(() => (h!.gw.record.connections[0]?.helloAt ?? null) !== null, {
      stepMs: 1,
    });
    const helloAt = h.gw.record.connections[0]!.helloAt!;
    await clock.advanceUntil(() => h!.gw.record.connections[0]!.heartbeats === 1, { stepMs: 10 });
    const firstBeat = h.gw.record.connections[0]!.received.find((p) => p.op === 1)!;
    expect(firstBeat.at - helloAt).toBeGreaterThanOrEqual(Math.floor(41_250 * 0.25));
    expect(firstBeat.at - helloAt).toBeLessThanOrEqual(Math.floor(41_250 * 0.25) + 10);
    expect(h.gw.record.identifies).toHaveLength(0);
    expect(h.gw.record.violationsOf('not-authenticated')).toHaveLength(0);
    release();
    await connected;
    await clock.advance(41_250);
    expect(h.gw.record.connections[0]!.heartbeats).toBe(2);
  });

  it('GW-GT-7: no ACK between two beats -> socket dropped at once (no close handshake) and RESUME', async () => {
    const clock = new ManualClock();
    h = await harness({ clock, heartbeatIntervalMs: 10_000 }, {}, { random: () => 0 });
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    conn.stopAcking();
    await clock.advanceUntil(() => count(h!.events, 'SHARD_RESUMED') === 1, { stepMs: 500 });
    expect(h.gw.record.connections[0]!.closedBy).toBe('network');
    expect(h.gw.record.identifies).toHaveLength(1);
    expect(h.gw.record.resumes.map((r) => r.outcome)).toEqual(['resumed']);
    expect(h.logs.text()).toMatch(/zombie/);
  });

  it('GW-GT-7: a connection still receiving frames is alive without ACKs within maxMissedAcks; op 1 is answered at once with op 1', async () => {
    const clock = new ManualClock();
    h = await harness(
      { clock, heartbeatIntervalMs: 10_000 },
      { maxMissedAcks: 3 },
      { random: () => 0 },
    );
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    conn.stopAcking();
    for (let i = 0; i < 4; i++) {
      conn.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(h.gw.traffic.guilds[0]!, `m${i}`));
      await clock.advance(5_000);
    }
    expect(count(h.events, 'SHARD_DISCONNECTED')).toBe(0);
    const request = conn.requestHeartbeat({ deadlineMs: 50 });
    await clock.advance(0);
    await until(() => request.answeredAt !== null);
    expect(request.answeredAt! - request.sentAt).toBe(0);
    await clock.advance(100);
    expect(request.inTime).toBe(true);
    expect(h.gw.record.connections[0]!.received.filter((p) => p.op === 11)).toHaveLength(0);
  });

  it('GW-GT-8: a late close of the old socket never touches the new connection', async () => {
    const clock = new ManualClock();
    h = await harness({ clock, heartbeatIntervalMs: 10_000 }, {}, { random: () => 0 });
    await h.shard.connect();
    const old = await h.gw.waitForConnection(0);
    old.reconnect();
    await clock.advanceUntil(() => count(h!.events, 'SHARD_RESUMED') === 1);
    old.close(4000);
    old.terminate();
    await clock.advance(35_000, 5);
    expect(h.shard.state).toBe(ShardState.Active);
    expect(count(h.events, 'SHARD_DISCONNECTED')).toBe(1);
    const current = h.gw.record.connections[1]!;
    expect(current.closedAt).toBeNull();
    expect(current.heartbeats).toBeGreaterThanOrEqual(3);
  });

  it('GW-GT-9: a new inflate context per connection: zlib-stream keeps decoding after a reconnect', async () => {
    h = await harness({}, { compression: 'zlib-stream' });
    await h.shard.connect();
    const first = await h.gw.waitForConnection(0);
    first.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(h.gw.traffic.guilds[0]!, 'before'));
    first.reconnect();
    await until(() => count(h!.events, 'SHARD_RESUMED') === 1);
    const second = await h.gw.waitForConnection(0);
    second.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(h.gw.traffic.guilds[0]!, 'after'));
    await until(() => count(h!.events, 'MESSAGE_CREATE') === 2);
    expect(h.data('MESSAGE_CREATE').map((d) => d.content)).toEqual(['before', 'after']);
    expect(count(h.events, 'SHARD_ERROR')).toBe(0);
  });

  it('GW-GT-10: HELLO withheld -> GatewayTimeoutError, reconnect', async () => {
    const clock = new ManualClock();
    h = await harness({ clock }, { timeouts: { helloMs: 5_000 } });
    h.gw.nextConnections({ onConnect: 'none' });
    const connected = h.shard.connect();
    await clock.advanceUntil(() => count(h!.events, 'SHARD_READY') === 1, { stepMs: 250 });
    await connected;
    const error = h.events.find((e) => e.type === 'SHARD_ERROR')!.data as any;
    expect(error.error).toBeInstanceOf(GatewayTimeoutError);
    expect(error.error.phase).toBe('HELLO');
    expect(h.gw.record.connections).toHaveLength(2);
  });

  it.each([0, -5, 1, 999, 1e15])(
    'GW-HB-1: a HELLO heartbeat_interval of %p (not in [1 s, 2^31 - 1 ms]) is a ProtocolError and a reconnect, never a timer storm',
    async (interval) => {
      h = await harness();
      h.gw.nextConnections({ onConnect: 'none' });
      const connected = h.shard.connect();
      await h.gw.waitFor((record) => record.connections.length === 1 || null);
      h.gw.connections[0]!.send({ op: 10, d: { heartbeat_interval: interval } });
      await connected;
      const errors = h.data('SHARD_ERROR').map((d) => (d.error as Error).message);
      expect(errors[0]).toMatch(/HELLO without a heartbeat_interval in \[1000, 2147483647\] ms/);
      expect(h.gw.record.connections).toHaveLength(2);
      // Heartbeats follow the good HELLO of the second connection only.
      expect(h.gw.record.violations).toEqual([]);
    },
  );

  it('GW-GT-10: READY withheld -> timeout, reconnect and identify again', async () => {
    const clock = new ManualClock();
    h = await harness({ clock }, { timeouts: { readyMs: 8_000 } });
    h.gw.nextConnections({ withholdReady: true });
    const connected = h.shard.connect();
    await clock.advanceUntil(() => count(h!.events, 'SHARD_READY') === 1, { stepMs: 250 });
    await connected;
    const errors = h.data('SHARD_ERROR').map((d) => d.error);
    expect(errors[0]).toBeInstanceOf(GatewayTimeoutError);
    expect(errors[0].phase).toBe('READY');
  });

  it('GW-GT-10: a hung upgrade -> connect timeout, reconnect', async () => {
    const clock = new ManualClock();
    h = await harness({ clock }, { timeouts: { connectMs: 3_000 } });
    h.gw.delayUpgrades({ delayMs: 60_000 });
    const connected = h.shard.connect();
    await clock.advanceUntil(() => count(h!.events, 'SHARD_READY') === 1, { stepMs: 250 });
    await connected;
    expect(h.data('SHARD_ERROR')[0].error.phase).toBe('the WebSocket to open');
  });

  it('GW-GT-11: SHARD_GUILDS_READY once every READY guild arrived (GUILD_CREATE or GUILD_DELETE)', async () => {
    h = await harness({ traffic: { guildCount: 3 } });
    const unavailable = h.gw.traffic.guilds[1]!.id;
    await h.gw.stop();
    h = await harness({ traffic: { guildCount: 3 }, unavailableGuildIds: [unavailable] });
    await h.shard.connect();
    await until(() => count(h!.events, 'SHARD_GUILDS_READY') === 1);
    const ready = h.data('SHARD_GUILDS_READY')[0];
    expect(ready).toEqual({ guildCount: 3, unavailable: [], timedOut: false });
    const order = h.types().filter((t) => t.startsWith('GUILD_') || t === 'SHARD_GUILDS_READY');
    expect(order[order.length - 1]).toBe('SHARD_GUILDS_READY');
    expect(h.data('GUILD_DELETE').map((d) => d.id)).toEqual([unavailable]);
  });

  it('GW-GT-11: without the GUILDS intent guild readiness is immediate', async () => {
    h = await harness({ traffic: { guildCount: 2 } }, { intents: ['GuildMessages'] });
    await h.shard.connect();
    expect(h.data('SHARD_GUILDS_READY')).toEqual([
      { guildCount: 2, unavailable: [], timedOut: false },
    ]);
  });

  it('GW-GT-11: guilds that never arrive time out after guildsReadyMs idle', async () => {
    const clock = new ManualClock();
    h = await harness(
      { clock, traffic: { guildCount: 1 } },
      { timeouts: { guildsReadyMs: 7_000 } },
    );
    await h.shard.connect();
    await clock.advanceUntil(() => count(h!.events, 'SHARD_GUILDS_READY') === 1);
    // A READY (new session) listing a guild the gateway never sends.
    const conn = await h.gw.waitForConnection(0);
    const s = h.shard.session!.sequence + 1;
    conn.sendRaw(
      JSON.stringify({
        op: 0,
        t: 'READY',
        s,
        d: {
          session_id: 'other',
          resume_gateway_url: h.gw.resumeUrl,
          guilds: [{ id: '999', unavailable: true }],
        },
      }),
    );
    // Wait in real time: moving the clock while the READY is in flight would eat into the 7 s.
    await until(() => count(h!.events, 'SHARD_READY') === 2);
    await clock.advance(6_999);
    expect(count(h.events, 'SHARD_GUILDS_READY')).toBe(1);
    await clock.advance(1);
    expect(h.data('SHARD_GUILDS_READY')[1]).toEqual({
      guildCount: 1,
      unavailable: ['999'],
      timedOut: true,
    });
  });

  it('GW-GT-12: a large GUILD_CREATE (8 MiB) arrives decoded; the socket has no small maxPayload', async () => {
    // Discord's usual interval: the fake builds and deflates the 8 MiB in this process, which
    // blocks the shard's heartbeats meanwhile; at the harness's 1 s interval, a loaded machine
    // took over 2 s and the fake rightly closed the session with 4009 before sending it.
    h = await harness({ heartbeatIntervalMs: 41_250 }, { compression: 'zlib-stream' });
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    const s = conn.sendMalformed('huge', { bytes: 8 * 1024 * 1024 });
    // Building, deflating, inflating and parsing 8 MiB takes seconds on a loaded machine; the
    // wait is generous because this test is about size, not speed.
    await until(() => h!.events.some((e) => e.sequence === s), 60_000);
    const event = h.events.find((e) => e.sequence === s)!;
    expect(event.type).toBe('GUILD_CREATE');
    expect(h.gw.record.identifies).toHaveLength(1);
    expect((event.data as any).members.length).toBeGreaterThan(20_000);
  }, 90_000);

  it('GW-GT-13: RESUME bypasses the identify queue; IDENTIFY waits in it', async () => {
    h = await harness();
    await h.shard.connect();
    const session = await h.shard.close(4000);
    const calls: number[] = [];
    const blocked = await harness(
      {},
      { gatewayUrl: h.gw.url, session: session! },
      { queue: { enqueue: (id) => (calls.push(id), new Promise<void>(() => {})) } },
    );
    try {
      await blocked.shard.connect();
      expect(calls).toEqual([]);
      expect(h.gw.record.resumes.map((r) => r.outcome)).toEqual(['resumed']);
      (await h.gw.waitForConnection(0)).close(4009);
      await until(() => calls.length === 1 && blocked.shard.state === ShardState.Identifying);
      expect(h.gw.record.identifies).toHaveLength(1);
    } finally {
      await blocked.close();
    }
  });

  it('GW-GT-14: 300 commands at once at a 41,250 ms interval: <= 120 payloads in any 60 s, no 4008', async () => {
    const clock = new ManualClock();
    h = await harness({ clock, heartbeatIntervalMs: 41_250 }, {}, { random: () => 0.5 });
    await h.shard.connect();
    const sends = [];
    for (let i = 0; i < 300; i++) {
      sends.push(
        h.shard.requestGuildMembers({
          guild_id: h.gw.traffic.guilds[0]!.id,
          user_ids: ['80351110224678912'],
          nonce: `n${i}`,
        }),
      );
    }
    let done = 0;
    for (const s of sends) void s.then(() => done++);
    // Let the fake read the first burst at the moment it was sent before the clock moves on.
    await until(() => h!.gw.record.connections[0]!.receivedCount >= 100);
    await clock.advanceUntil(() => done === 300, { stepMs: 1_000, maxMs: 600_000, realWaitMs: 2 });
    const record = h.gw.record.connections[0]!;
    expect(record.maxPayloadsInWindow).toBeLessThanOrEqual(120);
    expect(h.gw.record.violationsOf('send-limit')).toHaveLength(0);
    expect(record.serverCloseCode).toBeNull();
    // The order is kept.
    const nonces = record.received.filter((p) => p.op === 8).map((p) => (p.d as any).nonce);
    expect(nonces).toEqual(Array.from({ length: 300 }, (_, i) => `n${i}`));
    // And a sliding check over the raw arrival times.
    const times = record.received.map((p) => p.at);
    for (let i = 0; i + 120 < times.length; i++)
      expect(times[i + 120]! - times[i]!).toBeGreaterThan(60_000);
  });

  it('GW-GT-15: a payload over 4096 bytes is refused with PayloadTooLargeError before the socket', async () => {
    h = await harness();
    await h.shard.connect();
    const big = 'x'.repeat(5_000);
    await expect(
      h.shard.send({
        op: 3,
        d: { since: null, activities: [{ name: big, type: 0 }], status: 'online', afk: false },
      }),
    ).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(h.shard.send({ op: 44, d: { blob: big } })).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(
      h.gw.record.connections[0]!.received.filter((p) => p.op === 3 || p.op === 44),
    ).toHaveLength(0);
    expect(h.gw.record.violationsOf('payload-too-large')).toHaveLength(0);
  });

  it('GW-GT-18: op 7 instead of HELLO: reconnect and IDENTIFY, no protocol error', async () => {
    h = await harness();
    h.gw.nextConnections({ onConnect: 'reconnect' });
    await h.shard.connect();
    expect(h.gw.record.connections).toHaveLength(2);
    expect(h.gw.record.identifies).toHaveLength(1);
    expect(count(h.events, 'SHARD_ERROR')).toBe(0);
  });

  it('GW-GT-19: a Request Guild Members nonce over 32 bytes is a CommandError, never sent', async () => {
    h = await harness();
    await h.shard.connect();
    await expect(
      h.shard.requestGuildMembers({
        guild_id: h.gw.traffic.guilds[0]!.id,
        query: '',
        limit: 0,
        nonce: 'n'.repeat(33),
      }),
    ).rejects.toBeInstanceOf(CommandError);
    await h.shard.requestGuildMembers({
      guild_id: h.gw.traffic.guilds[0]!.id,
      user_ids: ['1'],
      nonce: 'n'.repeat(32),
    });
    await until(() => h!.gw.record.connections[0]!.received.some((p) => p.op === 8));
    const sent = h.gw.record.connections[0]!.received.filter((p) => p.op === 8);
    expect(sent).toHaveLength(1);
    expect((sent[0]!.d as any).nonce).toBe('n'.repeat(32));
  });

  it('GW-GT-20: the token goes out raw (a "Bot " prefix is stripped) and is accepted', async () => {
    h = await harness({}, { token: `Bot ${FakeGateway.defaultToken}` });
    await h.shard.connect();
    expect(h.gw.record.identifies.map((i) => i.outcome)).toEqual(['accepted']);
  });
});
