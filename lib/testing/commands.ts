import { GatewayCloseCodes, GatewayIntentBits, GatewayOpcodes } from 'discord-api-types/v10';
import type { GatewayContext } from './context.js';
import type { ProtocolConnection } from './protocol-connection.js';
import { SeededRandom, mixSeed } from './random.js';
import { shardForGuild } from './snowflake.js';
import type { GeneratedMember, WorldGuild } from './traffic.js';

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isSnowflake = (value: unknown): value is string =>
  typeof value === 'string' && /^\d{1,20}$/.test(value);

/** Nonces longer than 32 bytes are silently dropped (GW-GT-19). */
const MAX_NONCE_BYTES = 32;
/** A `query` or `user_ids` request returns at most 100 members (docs/protocol.md section 15). */
const MAX_QUERY_MEMBERS = 100;

/**
 * Answers the send commands of an identified connection (docs/protocol.md section 15): op 3
 * presence (limit recorded, optional echo), op 4 voice state, op 8 member chunks with the
 * full-list rate limit, op 31 soundboard sounds, op 43 channel info. A bad shape is closed
 * with 4001; a guild that does not route to this shard is recorded and ignored.
 */
export function handleCommand(
  ctx: GatewayContext,
  connection: ProtocolConnection,
  op: number,
  d: unknown,
): void {
  const invalid = (detail: string): void =>
    ctx.violation('invalid-payload', connection, GatewayCloseCodes.UnknownOpcode, detail);
  switch (op) {
    case GatewayOpcodes.PresenceUpdate:
      if (
        !isObject(d) ||
        typeof d.status !== 'string' ||
        !Array.isArray(d.activities) ||
        typeof d.afk !== 'boolean'
      ) {
        return invalid('op 3 needs status, activities, afk');
      }
      return presenceUpdate(ctx, connection, d);
    case GatewayOpcodes.VoiceStateUpdate:
      if (
        !isObject(d) ||
        !isSnowflake(d.guild_id) ||
        (d.channel_id !== null && !isSnowflake(d.channel_id))
      ) {
        return invalid('op 4 needs guild_id and channel_id');
      }
      return voiceStateUpdate(ctx, connection, d);
    case GatewayOpcodes.RequestGuildMembers:
      if (
        !isObject(d) ||
        !isSnowflake(d.guild_id) ||
        (d.query === undefined && d.user_ids === undefined)
      ) {
        return invalid('op 8 needs guild_id and query or user_ids');
      }
      return requestGuildMembers(ctx, connection, d);
    case GatewayOpcodes.RequestSoundboardSounds:
      if (!isObject(d) || !Array.isArray(d.guild_ids) || !d.guild_ids.every(isSnowflake)) {
        return invalid('op 31 needs guild_ids');
      }
      for (const guildId of d.guild_ids as string[]) {
        if (!routed(ctx, connection, guildId, op)) continue;
        connection.dispatch('SOUNDBOARD_SOUNDS', {
          soundboard_sounds: soundsOf(ctx, guildId),
          guild_id: guildId,
        });
      }
      return;
    case GatewayOpcodes.RequestChannelInfo:
      if (!isObject(d) || !isSnowflake(d.guild_id) || !Array.isArray(d.fields))
        return invalid('op 43 needs guild_id and fields');
      return channelInfo(ctx, connection, d.guild_id, d.fields as unknown[]);
  }
}

/** Guild commands go to the shard that owns the guild (GW-SH-1); elsewhere they are ignored. */
function routed(
  ctx: GatewayContext,
  connection: ProtocolConnection,
  guildId: string,
  op: number,
): boolean {
  const session = connection.session!;
  if (shardForGuild(guildId, session.shardCount) === session.shardId) return true;
  ctx.violation(
    'command-wrong-shard',
    connection,
    null,
    `op ${op} for guild ${guildId} sent to shard ${session.shardId}`,
  );
  return false;
}

function presenceUpdate(ctx: GatewayContext, connection: ProtocolConnection, d: Fields): void {
  if (!connection.presenceWindow.hit()) {
    const { limit, windowMs } = ctx.settings.presenceLimit;
    ctx.violation(
      'presence-rate-limit',
      connection,
      null,
      `more than ${limit} presence updates in ${windowMs} ms`,
    );
  }
  if (!ctx.settings.echoPresence) return;
  const session = connection.session!;
  for (const guild of ctx.traffic.guildsForShard(session.shardId, session.shardCount)) {
    connection.dispatch('PRESENCE_UPDATE', {
      user: { id: ctx.traffic.botUser.id },
      guild_id: guild.id,
      status: d.status,
      activities: d.activities,
      client_status: { web: d.status },
    });
  }
}

function voiceStateUpdate(ctx: GatewayContext, connection: ProtocolConnection, d: Fields): void {
  const guildId = d.guild_id as string;
  if (!routed(ctx, connection, guildId, GatewayOpcodes.VoiceStateUpdate)) return;
  const guild = ctx.traffic.guild(guildId);
  const random = new SeededRandom(mixSeed(Number(BigInt(guildId) & 0xffffffffn), ctx.clock.now()));
  connection.dispatch('VOICE_STATE_UPDATE', {
    guild_id: guildId,
    channel_id: d.channel_id,
    user_id: ctx.traffic.botUser.id,
    ...(guild ? { member: ctx.traffic.botMember(guild) } : {}),
    session_id: random.hex(32),
    deaf: false,
    mute: false,
    self_deaf: d.self_deaf === true,
    self_mute: d.self_mute === true,
    self_video: false,
    suppress: false,
    request_to_speak_timestamp: null,
  });
  if (d.channel_id !== null) {
    connection.dispatch('VOICE_SERVER_UPDATE', {
      token: random.hex(16),
      guild_id: guildId,
      endpoint: 'fake-voice.discord.media:443',
    });
  }
}

/**
 * GUILD_MEMBERS_CHUNK answers (GW-GT-19): `user_ids` (at most 100; unknown ids in `not_found`),
 * a `query` prefix (at most 100, or `limit`), or the full list for `query:""` + `limit:0`, which
 * is limited to one request per guild per window and otherwise answered by RATE_LIMITED
 * (GW-RL-5). Presences only with GUILD_PRESENCES. `not_found` rides on the last chunk.
 */
function requestGuildMembers(ctx: GatewayContext, connection: ProtocolConnection, d: Fields): void {
  const guildId = d.guild_id as string;
  if (!routed(ctx, connection, guildId, GatewayOpcodes.RequestGuildMembers)) return;
  const nonce =
    typeof d.nonce === 'string' && Buffer.byteLength(d.nonce) <= MAX_NONCE_BYTES
      ? d.nonce
      : undefined;
  const fullList = d.user_ids === undefined && d.query === '' && d.limit === 0;
  if (fullList) {
    const now = ctx.clock.now();
    const last = ctx.memberRequests.get(guildId);
    const windowMs = ctx.settings.memberRequestWindowMs;
    if (last !== undefined && now - last < windowMs) {
      ctx.violation(
        'member-request-rate-limit',
        connection,
        null,
        `full member list of ${guildId} again within ${windowMs} ms`,
      );
      connection.dispatch('RATE_LIMITED', {
        opcode: GatewayOpcodes.RequestGuildMembers,
        retry_after: (windowMs - (now - last)) / 1000,
        meta: { guild_id: guildId, ...(nonce !== undefined ? { nonce } : {}) },
      });
      return;
    }
    ctx.memberRequests.set(guildId, now);
  }
  const guild = ctx.traffic.guild(guildId);
  const members: GeneratedMember[] = [];
  const notFound: string[] = [];
  if (d.user_ids !== undefined) {
    const ids = (Array.isArray(d.user_ids) ? d.user_ids : [d.user_ids]).slice(0, MAX_QUERY_MEMBERS);
    for (const id of ids) {
      const member = guild && typeof id === 'string' ? findMember(ctx, guild, id) : undefined;
      if (member) members.push(member);
      else notFound.push(String(id));
    }
  } else if (guild) {
    const query = typeof d.query === 'string' ? d.query.toLowerCase() : '';
    const requested =
      Number.isInteger(d.limit) && (d.limit as number) > 0
        ? (d.limit as number)
        : MAX_QUERY_MEMBERS;
    const limit = fullList ? Infinity : Math.min(requested, MAX_QUERY_MEMBERS);
    const consider = (member: GeneratedMember): void => {
      if (members.length < limit && member.user.username.toLowerCase().startsWith(query))
        members.push(member);
    };
    consider(ctx.traffic.botMember(guild));
    for (let i = 0; i < guild.memberCount && members.length < limit; i++)
      consider(ctx.traffic.member(guild, i));
  }
  const withPresences =
    d.presences === true && (connection.session!.intents & GatewayIntentBits.GuildPresences) !== 0;
  const { memberChunkSize, memberChunkCount } = ctx.settings;
  const chunkCount = Math.max(1, memberChunkCount ?? Math.ceil(members.length / memberChunkSize));
  const perChunk = Math.ceil(members.length / chunkCount);
  for (let index = 0; index < chunkCount; index++) {
    const slice = members.slice(index * perChunk, (index + 1) * perChunk);
    const chunk: Fields = {
      guild_id: guildId,
      members: slice,
      chunk_index: index,
      chunk_count: chunkCount,
    };
    if (index === chunkCount - 1) chunk.not_found = notFound;
    if (withPresences) {
      const random = new SeededRandom(mixSeed(guild?.index ?? 0, index, 0x77));
      chunk.presences = slice.map((m) => ctx.traffic.presence(null, m.user.id, random));
    }
    if (nonce !== undefined) chunk.nonce = nonce;
    connection.dispatch('GUILD_MEMBERS_CHUNK', chunk);
  }
}

function findMember(
  ctx: GatewayContext,
  guild: WorldGuild,
  userId: string,
): GeneratedMember | undefined {
  if (userId === ctx.traffic.botUser.id) return ctx.traffic.botMember(guild);
  return ctx.traffic.memberById(guild, userId);
}

function soundsOf(ctx: GatewayContext, guildId: string): Fields[] {
  const guild = ctx.traffic.guild(guildId);
  if (!guild) return [];
  return [
    {
      name: 'Yay',
      sound_id: guild.roles[1].id,
      volume: 1,
      emoji_id: null,
      emoji_name: '🎉',
      guild_id: guildId,
      available: true,
    },
  ];
}

/** CHANNEL_INFO for op 43: the guild's voice channels with the requested fields. */
function channelInfo(
  ctx: GatewayContext,
  connection: ProtocolConnection,
  guildId: string,
  fields: unknown[],
): void {
  if (!routed(ctx, connection, guildId, GatewayOpcodes.RequestChannelInfo)) return;
  const guild = ctx.traffic.guild(guildId);
  const channels = (guild?.channels ?? [])
    .filter((c) => c.type === 2)
    .map((c, i) => {
      const info: Fields = { id: c.id };
      if (fields.includes('status')) info.status = i === 0 ? 'Playing cards' : null;
      if (fields.includes('voice_start_time'))
        info.voice_start_time = i === 0 ? Math.floor(ctx.clock.now() / 1000) : null;
      return info;
    });
  connection.dispatch('CHANNEL_INFO', { guild_id: guildId, channels });
}
