import { randomInt } from 'node:crypto';
import type { Cluster } from '../../../lib/gateway/cluster/cluster.js';
import type { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import {
  MemberRequestRateLimitedError,
  UnknownShardError,
} from '../../../lib/gateway/errors/errors.js';
import { EventType } from '../../../lib/gateway/events/event-type.js';
import { EventTypeFlags } from '../../../lib/gateway/events/event-type-flags.js';
import type { GatewayEvent } from '../../../lib/gateway/events/gateway-event.js';
import { shardForGuild, type FakeGateway } from '../../../lib/testing/index.js';
import { createCluster, driveUntilSettled, startFake, until } from './cluster-support.js';

/** A random snowflake: 42 timestamp bits, 22 low bits. */
function randomSnowflake(): string {
  const timestamp = BigInt(randomInt(0, 2 ** 40)) * 4n + BigInt(randomInt(0, 4));
  return String((timestamp << 22n) | BigInt(randomInt(0, 2 ** 22)));
}

describe('Cluster routing and commands (GW-SH-1, GW-SH-2, GW-GT-17)', () => {
  let fake: FakeGateway;
  let clock: ManualClock;
  let cluster: Cluster;

  beforeAll(async () => {
    ({ fake, clock } = await startFake({
      shards: 16,
      maxConcurrency: 16,
      memberChunks: { count: 5 },
      traffic: { membersPerGuild: 24 },
    }));
    cluster = createCluster(fake, clock, {
      intents: ['Guilds', 'GuildMembers'],
      eventTypes: EventTypeFlags.of(EventType.ChannelCreate, EventType.ClusterReady),
    });
    await driveUntilSettled(clock, cluster.up());
  });
  afterAll(async () => {
    await cluster.down();
    await fake.stop();
  });

  it.each([
    ['197038439483310086', 2],
    ['41771983423143937', 6],
  ])('GW-SH-1 worked example: guild %s is on shard %i of 16', (guildId, shardId) => {
    expect(cluster.shardIdForGuild(guildId)).toBe(shardId);
  });

  it('GW-SH-1: 1,000 random snowflakes route to the shard FakeGateway delivers each guild on', async () => {
    const received = new Map<string, number>();
    const stop = cluster.addListener((event) => {
      if (event.type === EventType.ChannelCreate) {
        received.set((event.data as { guild_id: string }).guild_id, event.shardId);
      }
    });
    const guildIds = Array.from({ length: 1_000 }, randomSnowflake);
    for (const guildId of guildIds) {
      expect(
        fake.dispatch(
          'CHANNEL_CREATE',
          { id: guildId, guild_id: guildId, type: 0 },
          { applyIntents: false },
        ),
      ).toBe(1);
    }
    await until(() => received.size === new Set(guildIds).size);
    stop();
    for (const guildId of guildIds) {
      expect(received.get(guildId)).toBe(cluster.shardIdForGuild(guildId));
      expect(cluster.shardIdForGuild(guildId)).toBe(shardForGuild(guildId, 16));
    }
  });

  it('commandForGuild sends on the owning shard (FakeGateway records no wrong-shard command)', async () => {
    const guildIds = Array.from({ length: 48 }, randomSnowflake);
    await Promise.all(
      guildIds.map((guildId) =>
        cluster.commandForGuild(guildId, {
          op: 4,
          d: { guild_id: guildId, channel_id: null, self_mute: false, self_deaf: false },
        }),
      ),
    );
    await until(
      () =>
        fake.record.connections.reduce(
          (n, c) => n + c.received.filter((p) => p.op === 4).length,
          0,
        ) === 48,
    );
    expect(fake.record.violations.filter((v) => v.kind === 'command-wrong-shard')).toEqual([]);
  });

  it('command() to a shard the cluster does not run rejects with UnknownShardError', async () => {
    await expect(cluster.command(16, { op: 1, d: null })).rejects.toBeInstanceOf(UnknownShardError);
    expect(() => cluster.shard(-1)).toThrow(UnknownShardError);
  });

  it('broadcast() sends through every shard', async () => {
    const before = fake.record.connections.map((c) => c.received.filter((p) => p.op === 3).length);
    await cluster.broadcast({
      op: 3,
      d: { since: null, activities: [], status: 'idle', afk: false },
    });
    await until(
      () =>
        fake.record.connections.filter(
          (c, i) => c.received.filter((p) => p.op === 3).length > (before[i] ?? 0),
        ).length === 16,
    );
  });

  it('GW-GT-19: requestGuildMembers gathers a 5-chunk answer in order, decoding chunks the base flags exclude', async () => {
    const guild = fake.traffic.guilds[3];
    const shard = cluster.shard(cluster.shardIdForGuild(guild.id));
    const baseOnly = shard.eventTypes;
    expect(EventTypeFlags.has(baseOnly, EventType.GuildMembersChunk)).toBe(false);
    const request = cluster.requestGuildMembers(guild.id);
    expect(Buffer.byteLength(request.nonce)).toBeLessThanOrEqual(32);
    expect(EventTypeFlags.has(shard.eventTypes, EventType.GuildMembersChunk)).toBe(true);
    const streamed: number[] = [];
    request.subscribe({ next: (chunk) => streamed.push(chunk.chunk_index) });
    const result = await driveUntilSettled(clock, request.all());
    expect(result.chunks.map((c) => [c.chunk_index, c.chunk_count, c.nonce])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [i, 5, request.nonce]),
    );
    expect(streamed).toEqual([0, 1, 2, 3, 4]);
    expect(result.members).toHaveLength(25); // 24 members + the bot
    expect(new Set(result.members.map((m) => m.user.id)).size).toBe(25);
    expect(result.notFound).toEqual([]);
    // The filter is restored once no request waits.
    expect(shard.eventTypes).toBe(baseOnly);
  });

  it('not_found ids are surfaced', async () => {
    const guild = fake.traffic.guilds[5];
    const result = await driveUntilSettled(
      clock,
      cluster.requestGuildMembers(guild.id, { userIds: ['1', '2'] }).all(),
    );
    expect(result.notFound.sort()).toEqual(['1', '2']);
  });

  it('GW-RL-5: a RATE_LIMITED answer rejects with MemberRequestRateLimitedError carrying retry_after', async () => {
    const guild = fake.traffic.guilds[7];
    // The fake answers with what is left of its 30 s window on the shared clock, which moves
    // on while the requests travel (more of it on a loaded machine): bound it by readings.
    const firstSent = clock.now();
    await driveUntilSettled(clock, cluster.requestGuildMembers(guild.id).all());
    const firstAnswered = clock.now();
    await clock.advance(10_000);
    const secondSent = clock.now();
    const request = cluster.requestGuildMembers(guild.id);
    const error = (await driveUntilSettled(clock, request.all()).catch(
      (e: unknown) => e,
    )) as MemberRequestRateLimitedError;
    const secondAnswered = clock.now();
    expect(error).toBeInstanceOf(MemberRequestRateLimitedError);
    expect(error.retryAfter).toBeLessThanOrEqual(30 - (secondSent - firstAnswered) / 1000 + 1e-9);
    expect(error.retryAfter).toBeGreaterThanOrEqual(
      30 - (secondAnswered - firstSent) / 1000 - 1e-9,
    );
    expect(error.guildId).toBe(guild.id);
    expect(error.nonce).toBe(request.nonce);
  });

  it('subscribe() widens every shard filter while subscribed; base listeners do not see those types', async () => {
    const base: GatewayEvent[] = [];
    const subscribed: GatewayEvent[] = [];
    const stopBase = cluster.addListener((event) => base.push(event));
    const flagsBefore = cluster.shard(0).eventTypes;
    const unsubscribe = cluster.subscribe([EventType.GuildRoleCreate], (event) =>
      subscribed.push(event),
    );
    for (const id of cluster.shardIds)
      expect(EventTypeFlags.has(cluster.shard(id).eventTypes, EventType.GuildRoleCreate)).toBe(
        true,
      );
    const guild = fake.traffic.guilds[0];
    fake.dispatch('GUILD_ROLE_CREATE', { guild_id: guild.id, role: { id: '77', name: 'new' } });
    fake.dispatch('CHANNEL_CREATE', { id: '78', guild_id: guild.id, type: 0 });
    await until(() => subscribed.length === 1 && base.length === 1);
    expect(subscribed[0]).toMatchObject({
      type: EventType.GuildRoleCreate,
      shardId: cluster.shardIdForGuild(guild.id),
    });
    expect(base[0].type).toBe(EventType.ChannelCreate);
    unsubscribe();
    stopBase();
    for (const id of cluster.shardIds) expect(cluster.shard(id).eventTypes).toBe(flagsBefore);
  });

  it('events() is a bounded AsyncIterable of the merged stream, filtered by types', async () => {
    const iterator = cluster.events({ types: [EventType.ChannelCreate], bufferSize: 3 });
    const guild = fake.traffic.guilds[1];
    for (let i = 0; i < 5; i++)
      fake.dispatch('CHANNEL_CREATE', { id: String(500 + i), guild_id: guild.id, type: 0 });
    await until(() => fake.connectionFor(cluster.shardIdForGuild(guild.id)) !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const ids: string[] = [];
    for await (const event of iterator) {
      ids.push((event.data as { id: string }).id);
      if (ids.length === 3) break;
    }
    // Capacity 3: the first three were kept, the overflow dropped (never unbounded memory).
    expect(ids).toEqual(['500', '501', '502']);
  });
});
