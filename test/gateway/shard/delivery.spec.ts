import { jest } from '@jest/globals';
import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import { ShardClosedError } from '../../../lib/gateway/errors/errors.js';
import { EventType } from '../../../lib/gateway/events/event-type.js';
import { EventTypeFlags } from '../../../lib/gateway/events/event-type-flags.js';
import type { GatewayEvent } from '../../../lib/gateway/events/gateway-event.js';
import { ShardState } from '../../../lib/gateway/shard/shard-state.js';
import { count, harness, until, type Harness } from './helpers.js';

jest.setTimeout(30_000);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('Shard delivery', () => {
  it('GW-RS-3, GW-GT-5: 1,000 dispatches across a zombie, op 7, op 9 d=true and a TCP drop arrive exactly once, in order', async () => {
    const clock = new ManualClock();
    h = await harness(
      { clock, heartbeatIntervalMs: 10_000 },
      { compression: 'zlib-stream', intents: ['Guilds', 'GuildMessages', 'MessageContent'] },
      { random: () => 0.5 },
    );
    await h.shard.connect();
    const gw = h.gw;
    const guild = gw.traffic.guilds[0]!;
    let next = 0;
    const send = (n: number): void => {
      for (let i = 0; i < n; i++)
        gw.dispatch('MESSAGE_CREATE', gw.traffic.messageCreate(guild, `#${next++}`), {
          shardId: 0,
        });
    };
    const contents = (): string[] => h!.data('MESSAGE_CREATE').map((d) => d.content as string);
    const settle = (n: number): Promise<void> =>
      clock.advanceUntil(() => contents().length >= n, { stepMs: 50 });

    send(200);
    await settle(200);

    // Zombie: ACKs stop; a few more dispatches flow, then silence until the shard resumes.
    (await gw.waitForConnection(0)).stopAcking();
    send(50);
    await clock.advanceUntil(() => count(h!.events, 'SHARD_RESUMED') === 1, { stepMs: 1_000 });
    send(150);
    await settle(400);

    // Op 7, with dispatches racing the reconnect (replayed from the session buffer).
    (await gw.waitForConnection(0)).reconnect();
    send(100);
    await clock.advanceUntil(() => count(h!.events, 'SHARD_RESUMED') === 2, { stepMs: 50 });
    send(150);
    await settle(650);

    // Op 9 d=true.
    (await gw.waitForConnection(0)).invalidateSession(true);
    send(100);
    await clock.advanceUntil(() => count(h!.events, 'SHARD_RESUMED') === 3, { stepMs: 50 });
    send(150);
    await settle(900);

    // TCP drop without a close frame.
    (await gw.waitForConnection(0)).terminate();
    send(100);
    await clock.advanceUntil(() => count(h!.events, 'SHARD_RESUMED') === 4, { stepMs: 50 });
    await settle(1_000);

    expect(next).toBe(1_000);
    expect(contents()).toEqual(Array.from({ length: 1_000 }, (_, i) => `#${i}`));
    expect(gw.record.identifies).toHaveLength(1);
    expect(gw.record.resumes.map((r) => r.outcome)).toEqual([
      'resumed',
      'resumed',
      'resumed',
      'resumed',
    ]);
    expect(gw.record.resumes.reduce((sum, r) => sum + r.replayed, 0)).toBeGreaterThan(0);
    // GW-RS-3: each SHARD_RESUMED counts exactly what the gateway replayed (RESUMED itself not).
    const resumedEvents = h.events.filter((e) => e.type === 'SHARD_RESUMED');
    expect(resumedEvents.map((e) => (e.data as { replayed: number }).replayed)).toEqual(
      gw.record.resumes.map((r) => r.replayed),
    );
    // Sequences strictly increase over everything delivered.
    const seqs = h.events.filter((e) => e.sequence !== null).map((e) => e.sequence!);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
  });

  it('GW-RS-3: SHARD_RESUMED.replayed counts every replayed dispatch, one without t included, and not RESUMED', async () => {
    h = await harness();
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    const session = h.gw.sessions()[0]!;
    conn.terminate();
    // Buffered while the shard is away: one nameless dispatch and one real one.
    session.append(null, {});
    session.append('TYPING_START', { channel_id: '1', user_id: '2', timestamp: 1 });
    await until(() => count(h!.events, 'SHARD_RESUMED') === 1);
    expect(h.gw.record.resumes.map((r) => r.replayed)).toEqual([2]);
    expect(h.data('SHARD_RESUMED').map((d) => d.replayed)).toEqual([2]);
  });

  it('EventTypeFlags: unwanted dispatches are peeked, not decoded; the sequence is still tracked; the setter applies live', async () => {
    h = await harness({}, { eventTypes: EventTypeFlags.of(EventType.TypingStart) });
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    const guild = h.gw.traffic.guilds[0]!;
    const before = h.shard.stats;
    for (let i = 0; i < 10; i++)
      conn.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(guild, `m${i}`));
    const last = conn.dispatch('TYPING_START', { channel_id: '1', user_id: '2', timestamp: 1 })!;
    await until(() => count(h!.events, 'TYPING_START') === 1);
    const after = h.shard.stats;
    expect(after.dispatchesSkipped - before.dispatchesSkipped).toBe(10);
    expect(after.dispatchesDecoded - before.dispatchesDecoded).toBe(1);
    expect(count(h.events, 'MESSAGE_CREATE')).toBe(0);
    expect(h.shard.session!.sequence).toBe(last);
    // Only lifecycle events and the one wanted dispatch were delivered; READY and GUILD_CREATE were decoded for the shard's own use.
    expect(h.types().filter((t) => !t.startsWith('SHARD_'))).toEqual(['TYPING_START']);

    h.shard.eventTypes = EventTypeFlags.of(EventType.MessageCreate);
    conn.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(guild, 'now'));
    await until(() => count(h!.events, 'MESSAGE_CREATE') === 1);
    expect(h.data('MESSAGE_CREATE')[0].content).toBe('now');
  });

  it('GW-ENV-3: unknown dispatch names are delivered as UNKNOWN_EVENT only when asked for', async () => {
    h = await harness({}, { eventTypes: EventTypeFlags.of(EventType.UnknownEvent) });
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    const s = conn.dispatch('BRAND_NEW_EVENT', { x: 1 });
    await until(() => count(h!.events, 'UNKNOWN_EVENT') === 1);
    expect(h.events.find((e) => e.type === 'UNKNOWN_EVENT')).toEqual({
      shardId: 0,
      type: 'UNKNOWN_EVENT',
      data: { op: 0, t: 'BRAND_NEW_EVENT', s, d: { x: 1 } },
      sequence: s,
    });
    h.shard.eventTypes = EventTypeFlags.NONE;
    const skippedBefore = h.shard.stats.dispatchesSkipped;
    conn.dispatch('BRAND_NEW_EVENT', { x: 2 });
    await until(() => h!.shard.stats.dispatchesSkipped === skippedBefore + 1);
    expect(count(h.events, 'UNKNOWN_EVENT')).toBe(1);
  });

  it('listeners run in arrival order; one that throws (or rejects) is logged and the shard goes on', async () => {
    h = await harness();
    h.shard.addListener((event) => {
      if (event.type === 'MESSAGE_CREATE') throw new Error('listener boom');
    });
    h.shard.addListener(async (event) => {
      if (event.type === 'MESSAGE_CREATE') throw new Error('async boom');
    });
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    for (let i = 0; i < 3; i++)
      conn.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(h.gw.traffic.guilds[0]!, `m${i}`));
    await until(() => count(h!.events, 'MESSAGE_CREATE') === 3);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(h.data('MESSAGE_CREATE').map((d) => d.content)).toEqual(['m0', 'm1', 'm2']);
    expect(
      h.logs.lines.filter(
        (l) => l.level === 'error' && /listener of MESSAGE_CREATE threw/.test(l.message),
      ),
    ).toHaveLength(6);
    expect(h.shard.state).toBe(ShardState.Active);
  });

  it('events(): a bounded AsyncIterable; overflow is counted and logged once per burst; ends on close()', async () => {
    h = await harness();
    const iterator = h.shard.events({ bufferSize: 5 });
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    for (let i = 0; i < 20; i++)
      conn.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(h.gw.traffic.guilds[0]!, `m${i}`));
    await until(() => count(h!.events, 'MESSAGE_CREATE') === 20);
    expect(h.shard.stats.eventsDropped).toBeGreaterThan(0);
    expect(h.logs.lines.filter((l) => /buffer full/.test(l.message))).toHaveLength(1);
    const first: GatewayEvent[] = [];
    for (let i = 0; i < 5; i++) first.push((await iterator.next()).value as GatewayEvent);
    expect(first.map((e) => e.type)).toEqual(h.types().slice(0, 5));
    await h.shard.close();
    const rest: GatewayEvent[] = [];
    for await (const event of iterator) rest.push(event);
    expect(rest.length).toBeLessThanOrEqual(5);
  });

  it('send(): waits until Active, goes out in order, survives a reconnect; close() rejects what is left', async () => {
    h = await harness();
    const guild = h.gw.traffic.guilds[0]!.id;
    const early = h.shard.requestGuildMembers({ guild_id: guild, user_ids: ['1'], nonce: 'early' });
    await h.shard.connect();
    await early;
    const conn = await h.gw.waitForConnection(0);
    conn.reconnect();
    const during = [
      h.shard.send({ op: 8, d: { guild_id: guild, user_ids: ['2'], nonce: 'a' } }),
      h.shard.send({ op: 8, d: { guild_id: guild, user_ids: ['3'], nonce: 'b' } }),
    ];
    await Promise.all(during);
    await until(
      () =>
        h!.gw.record.connections.flatMap((c) => c.received).filter((p) => p.op === 8).length === 3,
    );
    const nonces = h.gw.record.connections
      .flatMap((c) => c.received)
      .filter((p) => p.op === 8)
      .map((p) => (p.d as any).nonce);
    expect(nonces).toEqual(['early', 'a', 'b']);
    expect(h.gw.record.violationsOf('not-authenticated')).toHaveLength(0);

    h.gw.nextConnections({ withholdReady: true });
    (await h.gw.waitForConnection(0)).reconnect();
    await until(() => h!.shard.state === ShardState.Resuming);
    const pending = h.shard.send({
      op: 8,
      d: { guild_id: guild, user_ids: ['4'], nonce: 'never' },
    });
    const rejected = expect(pending).rejects.toBeInstanceOf(ShardClosedError);
    await h.shard.close();
    await rejected;
    await expect(
      h.shard.send({ op: 8, d: { guild_id: guild, user_ids: ['5'] } }),
    ).rejects.toBeInstanceOf(ShardClosedError);
  });

  it('info() and latency: state, session, ACK round trips', async () => {
    // The send window shrunk with the interval, as against any short-interval test gateway.
    h = await harness({ heartbeatIntervalMs: 100 }, { limits: { commandWindowMs: 146 } });
    await h.shard.connect();
    await until(() => h!.shard.latency.recent.length >= 2);
    const info = h.shard.info();
    expect(info).toMatchObject({
      id: 0,
      total: 1,
      state: ShardState.Active,
      sessionId: h.gw.record.identifies[0]!.sessionId,
      reconnects: 0,
      lastClose: null,
    });
    expect(info.activeSince).not.toBeNull();
    expect(info.latency.average).toBeGreaterThanOrEqual(0);
  });
});
