import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import { count, harness, until, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const INTERVAL_MS = 10_000;

/** Sequences of the dispatches the shard delivered, in order. */
const sequences = (harnessed: Harness): number[] =>
  harnessed.events.filter((e) => e.sequence !== null).map((e) => e.sequence as number);

describe('liveness: ACK starvation is bounded, a start-up backlog is not cut (GW-HB-4, GW-GT-7)', () => {
  it('ACKs stop while dispatches flow after guilds-ready: closed (not 1000/1001) within 2 intervals of the first un-ACKed beat, one RESUME, nothing lost or duplicated', async () => {
    const clock = new ManualClock();
    h = await harness({ clock, heartbeatIntervalMs: INTERVAL_MS }, {}, { random: () => 0 });
    await h.shard.connect();
    await until(() => count(h!.events, 'SHARD_GUILDS_READY') === 1, 5_000, 'guilds-ready');
    const conn = await h.gw.waitForConnection(0);
    await clock.advance(INTERVAL_MS); // one beat ACKed as usual
    conn.stopAcking();
    const firstUnacked = clock.now() + INTERVAL_MS;
    const guild = h.gw.traffic.guilds[0]!;
    while (
      count(h.events, 'SHARD_DISCONNECTED') === 0 &&
      clock.now() < firstUnacked + 3 * INTERVAL_MS
    ) {
      h.gw.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(guild, 'still here'));
      await clock.advance(1_000);
    }
    const [disconnected] = h.data('SHARD_DISCONNECTED');
    expect(disconnected).toMatchObject({ cause: 'ack-timeout', next: 'resume' });
    expect(clock.now()).toBeLessThanOrEqual(firstUnacked + 2 * INTERVAL_MS);
    await until(() => h!.gw.record.connections[0]!.closedAt !== null, 5_000, 'closed');
    const closed = h.gw.record.connections[0]!;
    expect(closed.closedBy).toBe('client');
    expect([1000, 1001]).not.toContain(closed.clientCloseCode);
    h.gw.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(guild, 'after'));
    await clock.advanceUntil(() => count(h!.events, 'SHARD_RESUMED') === 1, { stepMs: 500 });
    const lastSent = h.gw.sessions()[0]!.seq;
    await until(
      () => h!.shard.session?.sequence === lastSent,
      5_000,
      'every dispatch, the one sent while disconnected included',
    );
    expect(h.gw.record.resumes.map((r) => r.outcome)).toEqual(['resumed']);
    expect(h.gw.record.identifies).toHaveLength(1);
    const seen = sequences(h);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
    expect(h.logs.text()).toMatch(/ack-timeout/);
  });

  it('a GUILD_CREATE backlog longer than 2 intervals, ACKs missing all along: the connection is kept', async () => {
    const clock = new ManualClock();
    h = await harness(
      {
        clock,
        heartbeatIntervalMs: INTERVAL_MS,
        traffic: { guildCount: 8 },
        ackForm: 'none',
        connection: { withholdReady: true },
      },
      { timeouts: { guildsReadyMs: 60_000 } },
      { random: () => 0 },
    );
    const connected = h.shard.connect();
    await h.gw.waitFor((r) => r.identifies.length === 1);
    // READY and the GUILD_CREATEs by hand: one guild every half interval, 4 intervals in all.
    const conn = h.gw.connections[0]!;
    const session = conn.session!;
    conn.live = true;
    session.started = true;
    const guilds = h.gw.traffic.guilds;
    session.append('READY', {
      v: 10,
      user: h.gw.traffic.botUser,
      guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
      session_id: session.id,
      resume_gateway_url: h.gw.resumeUrl,
      application: { id: h.gw.traffic.applicationId, flags: 0 },
    });
    await connected;
    for (const guild of guilds) {
      await clock.advance(INTERVAL_MS / 2);
      session.append('GUILD_CREATE', h.gw.traffic.guildCreate(guild));
      await until(() => h!.data('GUILD_CREATE').some((g) => g.id === guild.id), 5_000, guild.id);
    }
    await until(() => count(h!.events, 'SHARD_GUILDS_READY') === 1, 5_000, 'guilds-ready');
    expect(h.data('SHARD_DISCONNECTED')).toEqual([]);
    expect(h.gw.record.connections).toHaveLength(1);
    expect(h.gw.record.connections[0]!.heartbeats).toBeGreaterThanOrEqual(4);
    expect(h.gw.record.connections[0]!.acks).toBe(0);
  });

  it('a frozen connection (true zombie) is detected at the next beat and resumed', async () => {
    const clock = new ManualClock();
    h = await harness({ clock, heartbeatIntervalMs: INTERVAL_MS }, {}, { random: () => 0 });
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    await clock.advance(INTERVAL_MS); // the beat at 0 is ACKed; the next one goes out now
    conn.freeze();
    // The next beat goes out un-ACKed; the beat after it finds nothing arrived: a zombie.
    const firstUnacked = clock.now() + INTERVAL_MS;
    await clock.advanceUntil(() => count(h!.events, 'SHARD_DISCONNECTED') === 1, { stepMs: 500 });
    expect(h.data('SHARD_DISCONNECTED')[0]).toMatchObject({ cause: 'zombie', next: 'resume' });
    expect(clock.now()).toBeLessThanOrEqual(firstUnacked + INTERVAL_MS);
    await clock.advanceUntil(() => count(h!.events, 'SHARD_RESUMED') === 1, { stepMs: 500 });
    expect(h.gw.record.resumes.map((r) => r.outcome)).toEqual(['resumed']);
  });
});
