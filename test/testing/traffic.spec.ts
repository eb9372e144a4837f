import { GatewayIntentBits } from 'discord-api-types/v10';
import { ManualClock } from '../../lib/gateway/clock/manual-clock.js';
import {
  DISCORD_EPOCH,
  FakeGateway,
  TrafficGenerator,
  shardForGuild,
  snowflakeTime,
} from '../../lib/testing/index.js';
import { RawClient, type Received } from './raw-client.js';

const token = FakeGateway.defaultToken;
const I = GatewayIntentBits;
const ALL =
  I.Guilds |
  I.GuildMembers |
  I.GuildPresences |
  I.GuildMessages |
  I.GuildMessageTyping |
  I.GuildMessageReactions |
  I.MessageContent |
  I.DirectMessages;

describe('TrafficGenerator', () => {
  it('GW-SH-1: spreads guilds so every shard owns some, routed by (id >> 22) % shardCount in BigInt', () => {
    const traffic = new TrafficGenerator({ seed: 7, guildCount: 16, shardCount: 4 });
    for (let shard = 0; shard < 4; shard++) {
      const owned = traffic.guildsForShard(shard, 4);
      expect(owned).toHaveLength(4);
      for (const guild of owned) expect(Number((BigInt(guild.id) >> 22n) % 4n)).toBe(shard);
    }
    expect(shardForGuild('197038439483310086', 3)).toBe(2);
    expect(shardForGuild('41771983423143937', 16)).toBe(6);
  });

  it('is deterministic per seed and produces valid snowflakes with plausible timestamps', () => {
    const a = new TrafficGenerator({ seed: 3 });
    const b = new TrafficGenerator({ seed: 3 });
    const c = new TrafficGenerator({ seed: 4 });
    const take = (g: TrafficGenerator) => Array.from({ length: 50 }, () => g.next());
    const first = take(a);
    expect(take(b)).toEqual(first);
    expect(take(c)).not.toEqual(first);
    const ids = first.filter((e) => e.t === 'MESSAGE_CREATE').map((e) => e.d.id as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^\d{17,20}$/);
      expect(snowflakeTime(id)).toBeGreaterThan(DISCORD_EPOCH);
      expect(snowflakeTime(id)).toBeLessThan(Date.UTC(2030, 0, 1));
    }
    expect(new Set(first.map((e) => e.t)).size).toBeGreaterThanOrEqual(4);
  });

  it('never repeats a message id, even for 10,000 messageCreate() calls with no stream between', () => {
    const traffic = new TrafficGenerator({ seed: 5, guildCount: 2 });
    const ids = Array.from(
      { length: 10_000 },
      () => traffic.messageCreate(traffic.guilds[0], 'hi').id as string,
    );
    expect(new Set(ids).size).toBe(10_000);
    // Ids stay time-ordered: the timestamp moves on when the 12-bit increment wraps.
    const times = ids.map((id) => snowflakeTime(id));
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]!);
    expect(times[times.length - 1]! - times[0]!).toBe(2);
  });

  it('builds the documented shapes, and the configured share of !ping / !presence messages', () => {
    const traffic = new TrafficGenerator({
      seed: 1,
      commandFraction: 0.5,
      mix: {
        MESSAGE_CREATE: 1,
        PRESENCE_UPDATE: 0,
        TYPING_START: 0,
        MESSAGE_REACTION_ADD: 0,
        GUILD_MEMBER_ADD: 0,
        INTERACTION_CREATE: 0,
      },
    });
    const messages = Array.from({ length: 400 }, () => traffic.next());
    const commands = messages.filter(
      (m) => m.d.content === '!ping' || m.d.content === '!presence',
    ).length;
    expect(commands).toBeGreaterThan(150);
    expect(commands).toBeLessThan(250);
    const [message] = messages;
    expect(Object.keys(message.d)).toEqual(
      expect.arrayContaining([
        'id',
        'channel_id',
        'guild_id',
        'author',
        'member',
        'content',
        'timestamp',
        'mentions',
        'attachments',
        'embeds',
        'type',
      ]),
    );
    const guild = traffic.guilds[0];
    expect(traffic.event('INTERACTION_CREATE', guild).d).toMatchObject({
      type: 2,
      guild_id: guild.id,
      data: { name: 'ping' },
    });
    expect(traffic.event('MESSAGE_REACTION_ADD', guild).d).toMatchObject({
      guild_id: guild.id,
      emoji: { id: null },
    });
    expect(traffic.event('GUILD_MEMBER_ADD', guild).d).toMatchObject({
      guild_id: guild.id,
      roles: [],
    });
    expect(traffic.event('TYPING_START', guild).d).toMatchObject({ guild_id: guild.id });
  });

  it('GW-GT-12: GUILD_CREATE grows to several MB with the member count', () => {
    const traffic = new TrafficGenerator({ seed: 1, membersPerGuild: 10 });
    const guild = traffic.guilds[0];
    const small = traffic.guildCreate(guild);
    expect(small.members).toHaveLength(11);
    expect(small.member_count).toBe(11);
    const big = JSON.stringify(traffic.guildCreate(guild, { members: 20_000 }));
    expect(big.length).toBeGreaterThan(4 * 1024 * 1024);
  });
});

describe('FakeGateway traffic, routing, intents and commands', () => {
  let gw: FakeGateway;
  const clients: RawClient[] = [];
  const identify = async (
    fields: Record<string, unknown> = {},
  ): Promise<{ client: RawClient; ready: Received }> => {
    const client = await RawClient.connect(gw.url);
    clients.push(client);
    await client.next(10);
    client.identify(token, { intents: ALL, ...fields });
    const ready = await client.next(0, 'READY');
    await client.until(() => client.dispatches().length >= 1 + ready.d.guilds.length);
    return { client, ready };
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await gw?.stop();
  });

  it('GW-SH-1 / GW-SH-2: dispatches route to the shard owning the guild; DMs only to shard 0', async () => {
    gw = await FakeGateway.start({ shards: 2, maxConcurrency: 2 });
    const zero = await identify({ shard: [0, 2] });
    const one = await identify({ shard: [1, 2] });
    for (const guild of gw.traffic.guilds)
      gw.dispatch('MESSAGE_CREATE', gw.traffic.messageCreate(guild, `for ${guild.id}`));
    gw.dispatch('MESSAGE_CREATE', gw.traffic.directMessage('a DM'));
    const count = (c: RawClient) => c.dispatches().filter((p) => p.t === 'MESSAGE_CREATE').length;
    await zero.client.until(() => count(zero.client) === 3);
    await one.client.until(() => count(one.client) === 2);
    for (const [client, shard] of [
      [zero.client, 0],
      [one.client, 1],
    ] as const) {
      for (const p of client.dispatches().filter((d) => d.t === 'MESSAGE_CREATE' && d.d.guild_id)) {
        expect(shardForGuild(p.d.guild_id, 2)).toBe(shard);
      }
    }
    expect(zero.client.dispatches().some((p) => p.d?.content === 'a DM')).toBe(true);
  });

  it('section 17: filters dispatches by intents, and strips message content without MESSAGE_CONTENT', async () => {
    gw = await FakeGateway.start();
    const { client } = await identify({ intents: I.Guilds | I.GuildMessages });
    const guild = gw.traffic.guilds[0];
    expect(gw.dispatch('PRESENCE_UPDATE', gw.traffic.presence(guild, '1'))).toBe(0);
    expect(gw.dispatch('TYPING_START', gw.traffic.event('TYPING_START', guild).d)).toBe(0);
    expect(gw.dispatch('MESSAGE_CREATE', gw.traffic.messageCreate(guild, '!ping'))).toBe(1);
    const mention = {
      ...gw.traffic.messageCreate(guild, 'hi bot'),
      mentions: [{ id: gw.traffic.botUser.id }],
    };
    gw.dispatch('MESSAGE_CREATE', mention);
    await client.until(
      () => client.dispatches().filter((p) => p.t === 'MESSAGE_CREATE').length === 2,
    );
    const [stripped, mentioned] = client.dispatches().filter((p) => p.t === 'MESSAGE_CREATE');
    expect(stripped.d.content).toBe('');
    expect(mentioned.d.content).toBe('hi bot');
  });

  it('GW-GT-19: op 8 by user_ids answers with the members, not_found, presences and the nonce echoed', async () => {
    gw = await FakeGateway.start({ traffic: { membersPerGuild: 30 } });
    const { client } = await identify();
    const guild = gw.traffic.guilds[0];
    const known = [gw.traffic.member(guild, 3).user.id, gw.traffic.member(guild, 7).user.id];
    client.send({
      op: 8,
      d: { guild_id: guild.id, user_ids: [...known, '12345'], presences: true, nonce: 'req-1' },
    });
    const chunk = await client.next(0, 'GUILD_MEMBERS_CHUNK');
    expect(chunk.d).toMatchObject({
      guild_id: guild.id,
      chunk_index: 0,
      chunk_count: 1,
      not_found: ['12345'],
      nonce: 'req-1',
    });
    expect(chunk.d.members.map((m: { user: { id: string } }) => m.user.id)).toEqual(known);
    expect(chunk.d.presences).toHaveLength(2);
  });

  it('GW-GT-19: a nonce over 32 bytes is dropped; a query returns matching usernames', async () => {
    gw = await FakeGateway.start({ traffic: { membersPerGuild: 30 } });
    const { client } = await identify();
    const guild = gw.traffic.guilds[0];
    const name = gw.traffic.member(guild, 4).user.username;
    client.send({
      op: 8,
      d: { guild_id: guild.id, query: name, limit: 10, nonce: 'x'.repeat(33) },
    });
    const chunk = await client.next(0, 'GUILD_MEMBERS_CHUNK');
    expect(chunk.d.nonce).toBeUndefined();
    expect(chunk.d.members.length).toBeGreaterThanOrEqual(1);
    for (const member of chunk.d.members) expect(member.user.username.startsWith(name)).toBe(true);
  });

  it('GW-RL-5: the full list comes in the configured number of chunks; a second full request within 30 s gets RATE_LIMITED', async () => {
    const clock = new ManualClock();
    gw = await FakeGateway.start({
      clock,
      traffic: { membersPerGuild: 99 },
      memberChunks: { count: 5 },
    });
    const { client } = await identify();
    const guild = gw.traffic.guilds[0];
    const full = { op: 8, d: { guild_id: guild.id, query: '', limit: 0, nonce: 'all-1' } };
    client.send(full);
    await client.until(
      () => client.dispatches().filter((p) => p.t === 'GUILD_MEMBERS_CHUNK').length === 5,
    );
    const chunks = client.dispatches().filter((p) => p.t === 'GUILD_MEMBERS_CHUNK');
    expect(chunks.map((c) => [c.d.chunk_index, c.d.chunk_count, c.d.nonce])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [i, 5, 'all-1']),
    );
    expect(chunks.reduce((n, c) => n + c.d.members.length, 0)).toBe(100);
    await clock.advance(10_000);
    client.send({ op: 8, d: { ...full.d, nonce: 'all-2' } });
    const limited = await client.next(0, 'RATE_LIMITED');
    expect(limited.d).toEqual({
      opcode: 8,
      retry_after: 20,
      meta: { guild_id: guild.id, nonce: 'all-2' },
    });
    expect(gw.record.violationsOf('member-request-rate-limit')).toHaveLength(1);
    await clock.advance(20_000);
    client.send({ op: 8, d: { ...full.d, nonce: 'all-3' } });
    await client.waitFor((p) => p.t === 'GUILD_MEMBERS_CHUNK' && p.d.nonce === 'all-3');
  });

  it('answers op 4 with VOICE_STATE_UPDATE + VOICE_SERVER_UPDATE, op 31 with SOUNDBOARD_SOUNDS, op 43 with CHANNEL_INFO', async () => {
    gw = await FakeGateway.start({ traffic: { channelsPerGuild: 8 } });
    const { client } = await identify();
    const guild = gw.traffic.guilds[0];
    const voice = guild.channels.find((c) => c.type === 2)!;
    client.send({
      op: 4,
      d: { guild_id: guild.id, channel_id: voice.id, self_mute: false, self_deaf: true },
    });
    const state = await client.next(0, 'VOICE_STATE_UPDATE');
    expect(state.d).toMatchObject({
      guild_id: guild.id,
      channel_id: voice.id,
      user_id: gw.traffic.botUser.id,
      self_deaf: true,
    });
    expect((await client.next(0, 'VOICE_SERVER_UPDATE')).d).toMatchObject({ guild_id: guild.id });
    client.send({ op: 31, d: { guild_ids: [guild.id] } });
    expect((await client.next(0, 'SOUNDBOARD_SOUNDS')).d).toMatchObject({
      guild_id: guild.id,
      soundboard_sounds: [{ guild_id: guild.id }],
    });
    client.send({ op: 43, d: { guild_id: guild.id, fields: ['status'] } });
    const info = await client.next(0, 'CHANNEL_INFO');
    expect(info.d.channels.map((c: { id: string }) => c.id)).toEqual(
      guild.channels.filter((c) => c.type === 2).map((c) => c.id),
    );
    expect(Object.keys(info.d.channels[0])).toEqual(['id', 'status']);
  });

  it('GW-SH-1: a guild command sent to the wrong shard is recorded and ignored', async () => {
    gw = await FakeGateway.start({ shards: 2 });
    const { client } = await identify({ shard: [0, 2] });
    const foreign = gw.traffic.guildsForShard(1, 2)[0];
    client.send({ op: 8, d: { guild_id: foreign.id, user_ids: ['1'] } });
    await gw.waitFor((r) => r.violationsOf('command-wrong-shard').length === 1);
    expect(client.dispatches().some((p) => p.t === 'GUILD_MEMBERS_CHUNK')).toBe(false);
  });

  it('GW-RL-4: more than 5 presence updates in 20 s are recorded; echoPresence answers with PRESENCE_UPDATE', async () => {
    gw = await FakeGateway.start({ echoPresence: true });
    const { client } = await identify();
    for (let i = 0; i < 6; i++)
      client.send({ op: 3, d: { since: null, activities: [], status: 'idle', afk: false } });
    await gw.waitFor((r) => r.violationsOf('presence-rate-limit').length === 1);
    const echo = await client.next(0, 'PRESENCE_UPDATE');
    expect(echo.d).toMatchObject({ user: { id: gw.traffic.botUser.id }, status: 'idle' });
  });

  it('streams at a steady rate on the clock, and pumps as fast as the client drains', async () => {
    const clock = new ManualClock();
    gw = await FakeGateway.start({ clock });
    const { client } = await identify();
    const base = client.dispatches().length;
    const stream = gw.startTraffic({ ratePerSecond: 50 });
    await clock.advance(2_000);
    stream.stop();
    expect(stream.generated).toBe(100);
    await client.until(() => client.dispatches().length >= base + 60);
    const sent = await gw.pump(gw.connectionFor(0)!, {
      count: 2_000,
      highWaterMarkBytes: 64 * 1024,
    });
    expect(sent).toBe(2_000);
  });
});
