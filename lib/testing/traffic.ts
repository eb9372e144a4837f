import { SeededRandom, mixSeed } from './random.js';
import { DISCORD_EPOCH, shardForGuild, snowflake, snowflakeTime } from './snowflake.js';

/** Dispatch types the generator produces in its steady mix. */
export type TrafficEventType =
  | 'MESSAGE_CREATE'
  | 'PRESENCE_UPDATE'
  | 'TYPING_START'
  | 'MESSAGE_REACTION_ADD'
  | 'GUILD_MEMBER_ADD'
  | 'INTERACTION_CREATE';

/** Relative weights of each type in the mix. */
export type TrafficMix = Partial<Record<TrafficEventType, number>>;

/** Default mix: mostly messages and presences, as on a busy bot. */
export const DEFAULT_TRAFFIC_MIX: Readonly<Record<TrafficEventType, number>> = {
  MESSAGE_CREATE: 40,
  PRESENCE_UPDATE: 25,
  TYPING_START: 15,
  MESSAGE_REACTION_ADD: 10,
  GUILD_MEMBER_ADD: 5,
  INTERACTION_CREATE: 5,
};

export interface TrafficOptions {
  /** PRNG seed; the same seed gives the same world and the same event stream. Default 1. */
  seed?: number;
  /** Guilds in the world. Default 4. */
  guildCount?: number;
  /**
   * Guild ids are chosen so guild i lands on shard `i % shardCount` for this count
   * (`(id >> 22) % shardCount`, GW-SH-1), so every shard owns some. Default 1.
   */
  shardCount?: number;
  /** Channels per guild (about a quarter of them voice). Default 4. */
  channelsPerGuild?: number;
  /** Members per guild, excluding the bot. Default 25. */
  membersPerGuild?: number;
  /** Fraction of MESSAGE_CREATEs whose content is `'!ping'` or `'!presence'` (half each). Default 0.05. */
  commandFraction?: number;
  /** Weights of the event types. Default {@link DEFAULT_TRAFFIC_MIX}. */
  mix?: TrafficMix;
  /** Unix ms the generated snowflake timestamps start from. Default 2026-01-01T00:00:00Z. */
  startTimeMs?: number;
  /** Bot user id and name. Defaults derive from the seed. */
  botUserId?: string;
  botUsername?: string;
}

/** A generated guild; members and the GUILD_CREATE body are derived from it on demand. */
export interface WorldGuild {
  readonly index: number;
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  readonly memberCount: number;
  readonly roles: readonly { id: string; name: string }[];
  readonly channels: readonly { id: string; name: string; type: 0 | 2 }[];
}

/** A generated guild member, as in GUILD_CREATE, GUILD_MEMBER_ADD and GUILD_MEMBERS_CHUNK. */
export interface GeneratedMember {
  user: {
    id: string;
    username: string;
    global_name: string | null;
    discriminator: string;
    avatar: string | null;
    bot?: boolean;
  };
  nick: string | null;
  avatar: null;
  banner: null;
  roles: string[];
  joined_at: string;
  premium_since: null;
  deaf: boolean;
  mute: boolean;
  flags: number;
  pending: boolean;
}

/** A generated dispatch: the event name and its `d`. */
export interface GeneratedDispatch {
  t: string;
  d: Record<string, unknown>;
}

const WORDS = [
  'maple',
  'otter',
  'comet',
  'ember',
  'fjord',
  'glade',
  'harbor',
  'iris',
  'juniper',
  'kestrel',
  'lumen',
  'meadow',
  'nimbus',
  'orchid',
  'pebble',
  'quartz',
  'raven',
  'sable',
  'thistle',
  'umber',
];
const SENTENCES = [
  'anyone up for a match tonight?',
  'that patch broke everything lol',
  'gg',
  'brb',
  'has anyone seen the new trailer',
  'ok that was actually funny',
  'check the pinned message',
  'who is hosting this week',
  'nice one',
  'I think the bot is down again',
  'see you all tomorrow',
];
const EMOJIS = ['🔥', '👍', '😂', '🎉', '❤️', '👀'];
const STATUSES = ['online', 'idle', 'dnd', 'offline'] as const;
const GAMES = ['Rocket League', 'Minecraft', 'Celeste', 'Factorio', 'Hades'];

/** 2026-01-01T00:00:00Z. */
const DEFAULT_START = 1_767_225_600_000;
/** Bits 0-21 of a member's user id hold its index, so a user id maps back to its member. */
const INDEX_MASK = 0x3fffff;

/**
 * Builds realistic dispatch payloads from the documented shapes, with valid snowflakes, over
 * a seeded world of guilds, channels and members. Deterministic for a given seed and call
 * sequence; {@link state} / {@link restore} carry the stream position across restarts.
 */
export class TrafficGenerator {
  readonly guilds: readonly WorldGuild[];
  readonly botUser: GeneratedMember['user'];
  readonly applicationId: string;
  private readonly random: SeededRandom;
  private readonly seed: number;
  private readonly weights: [TrafficEventType, number][];
  private readonly weightTotal: number;
  private readonly commandFraction: number;
  private readonly membersPerGuild: number;
  private timeMs: number;
  private increment = 0;
  private joined = 0;
  private readonly byId = new Map<string, WorldGuild>();

  constructor(options: TrafficOptions = {}) {
    this.seed = options.seed ?? 1;
    this.random = new SeededRandom(this.seed);
    this.timeMs = options.startTimeMs ?? DEFAULT_START;
    this.commandFraction = options.commandFraction ?? 0.05;
    this.membersPerGuild = options.membersPerGuild ?? 25;
    const mix = { ...DEFAULT_TRAFFIC_MIX, ...(options.mix ?? {}) };
    this.weights = (Object.entries(mix) as [TrafficEventType, number][]).filter(([, w]) => w > 0);
    this.weightTotal = this.weights.reduce((sum, [, w]) => sum + w, 0);
    const setup = new SeededRandom(mixSeed(this.seed, 0xb07));
    this.botUser = {
      id:
        options.botUserId ??
        snowflake(DISCORD_EPOCH + 86_400_000 * setup.int(300, 900), setup.int(0, INDEX_MASK)),
      username: options.botUsername ?? 'FakeBot',
      global_name: null,
      discriminator: '0000',
      avatar: null,
      bot: true,
    };
    this.applicationId = this.botUser.id;
    const shardCount = Math.max(1, options.shardCount ?? 1);
    const guilds: WorldGuild[] = [];
    for (let index = 0; index < (options.guildCount ?? 4); index++) {
      const guild = this.makeGuild(
        index,
        index % shardCount,
        shardCount,
        options.channelsPerGuild ?? 4,
        setup,
      );
      guilds.push(guild);
      this.byId.set(guild.id, guild);
    }
    this.guilds = guilds;
  }

  /** The guild with this id, if the world has it. */
  guild(id: string): WorldGuild | undefined {
    return this.byId.get(id);
  }

  /** Guilds owned by `shardId` of `shardCount` (GW-SH-1). */
  guildsForShard(shardId: number, shardCount: number): WorldGuild[] {
    return this.guilds.filter((g) => shardForGuild(g.id, shardCount) === shardId);
  }

  /** Member `index` (0-based, below `memberCount`) of a guild; the same every call. */
  member(guild: WorldGuild, index: number): GeneratedMember {
    const r = new SeededRandom(mixSeed(this.seed, guild.index, index, 0x6d));
    const word = WORDS[index % WORDS.length];
    const joinedMs = snowflakeTime(guild.id) + r.int(0, 1_000) * 86_400_000;
    const created = joinedMs - r.int(1, 2_000) * 86_400_000;
    return {
      user: {
        id: snowflake(Math.max(DISCORD_EPOCH + 1, created), index),
        username: `${word}${index}`,
        global_name: r.chance(0.5) ? `${word[0].toUpperCase()}${word.slice(1)} ${index}` : null,
        discriminator: '0',
        avatar: r.chance(0.7) ? r.hex(32) : null,
      },
      nick: r.chance(0.2) ? `${word}-nick` : null,
      avatar: null,
      banner: null,
      roles: r.chance(0.5) ? [guild.roles[1 + (index % (guild.roles.length - 1))].id] : [],
      joined_at: new Date(joinedMs).toISOString(),
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
    };
  }

  /** The member whose user id is `userId`, or undefined when it is not in the guild. */
  memberById(guild: WorldGuild, userId: string): GeneratedMember | undefined {
    let index: number;
    try {
      index = Number(BigInt(userId) & BigInt(INDEX_MASK));
    } catch {
      return undefined;
    }
    if (index >= guild.memberCount) return undefined;
    const member = this.member(guild, index);
    return member.user.id === userId ? member : undefined;
  }

  /** The bot's own member object in a guild. */
  botMember(guild: WorldGuild): GeneratedMember {
    return {
      user: this.botUser,
      nick: null,
      avatar: null,
      banner: null,
      roles: [],
      joined_at: new Date(snowflakeTime(guild.id) + 86_400_000).toISOString(),
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
    };
  }

  /** A presence for a member, as in GUILD_CREATE `presences` and PRESENCE_UPDATE. */
  presence(
    guild: WorldGuild | null,
    userId: string,
    r: SeededRandom = this.random,
  ): Record<string, unknown> {
    const status = r.pick(STATUSES);
    const activities =
      status !== 'offline' && r.chance(0.5)
        ? [
            {
              name: r.pick(GAMES),
              type: 0,
              created_at: this.timeMs,
              timestamps: { start: this.timeMs - r.int(0, 3_600_000) },
            },
          ]
        : [];
    return {
      user: { id: userId },
      status,
      activities,
      client_status: status === 'offline' ? {} : { [r.pick(['desktop', 'mobile', 'web'])]: status },
      ...(guild ? { guild_id: guild.id } : {}),
    };
  }

  /**
   * A full GUILD_CREATE `d` (available guild), with every "Guild Create Extra Fields" key.
   * `members` (default the guild's member count) and `channels` (default the world's) size it:
   * about 300 bytes per member, so 20_000 members make several MB.
   */
  guildCreate(
    guild: WorldGuild,
    { members, presences = true }: { members?: number; presences?: boolean } = {},
  ): Record<string, unknown> {
    const count = Math.min(members ?? guild.memberCount, INDEX_MASK);
    const memberList: GeneratedMember[] = [this.botMember(guild)];
    const presenceList: Record<string, unknown>[] = [];
    const r = new SeededRandom(mixSeed(this.seed, guild.index, 0x9c));
    for (let i = 0; i < count; i++) {
      const member =
        i < guild.memberCount
          ? this.member(guild, i)
          : this.member({ ...guild, memberCount: count }, i);
      memberList.push(member);
      if (presences && r.chance(0.3)) presenceList.push(this.presence(null, member.user.id, r));
    }
    const textChannel = guild.channels.find((c) => c.type === 0);
    return {
      id: guild.id,
      name: guild.name,
      icon: null,
      description: null,
      splash: null,
      discovery_splash: null,
      features: [],
      emojis: [],
      stickers: [],
      banner: null,
      owner_id: guild.ownerId,
      application_id: null,
      region: null,
      afk_channel_id: null,
      afk_timeout: 300,
      system_channel_id: textChannel?.id ?? null,
      widget_enabled: false,
      widget_channel_id: null,
      verification_level: 1,
      roles: guild.roles.map((role, position) => ({
        id: role.id,
        name: role.name,
        color: position === 0 ? 0 : 3_447_003,
        colors: {
          primary_color: position === 0 ? 0 : 3_447_003,
          secondary_color: null,
          tertiary_color: null,
        },
        hoist: position > 0,
        icon: null,
        unicode_emoji: null,
        position,
        permissions: position === 0 ? '1071698660929' : '66321471',
        managed: false,
        mentionable: false,
        flags: 0,
      })),
      default_message_notifications: 1,
      mfa_level: 0,
      explicit_content_filter: 2,
      max_presences: null,
      max_members: 250_000,
      vanity_url_code: null,
      premium_tier: 0,
      premium_subscription_count: 0,
      system_channel_flags: 0,
      preferred_locale: 'en-US',
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
      joined_at: this.botMember(guild).joined_at,
      large: count + 1 > 50,
      unavailable: false,
      member_count: count + 1,
      voice_states: [],
      members: memberList,
      channels: guild.channels.map((channel, position) =>
        channel.type === 0
          ? {
              id: channel.id,
              guild_id: guild.id,
              name: channel.name,
              type: 0,
              position,
              permission_overwrites: [],
              rate_limit_per_user: 0,
              nsfw: false,
              topic: null,
              last_message_id: null,
              parent_id: null,
              default_auto_archive_duration: 1440,
            }
          : {
              id: channel.id,
              guild_id: guild.id,
              name: channel.name,
              type: 2,
              position,
              permission_overwrites: [],
              bitrate: 64_000,
              user_limit: 0,
              rtc_region: null,
              rate_limit_per_user: 0,
              nsfw: false,
              last_message_id: null,
              parent_id: null,
            },
      ),
      threads: [],
      presences: presenceList,
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  /** The next event of the steady mix, for a random guild (or one of `guilds`). */
  next(guilds: readonly WorldGuild[] = this.guilds): GeneratedDispatch {
    let roll = this.random.next() * this.weightTotal;
    let type = this.weights[0][0];
    for (const [name, weight] of this.weights) {
      roll -= weight;
      if (roll < 0) {
        type = name;
        break;
      }
    }
    return this.event(type, this.random.pick(guilds));
  }

  /** One event of `type` in `guild`. */
  event(
    type: TrafficEventType,
    guild: WorldGuild = this.random.pick(this.guilds),
  ): GeneratedDispatch {
    this.timeMs += this.random.int(0, 50);
    switch (type) {
      case 'MESSAGE_CREATE':
        return { t: type, d: this.messageCreate(guild) };
      case 'PRESENCE_UPDATE':
        return { t: type, d: this.presence(guild, this.randomMember(guild).user.id) };
      case 'TYPING_START':
        return { t: type, d: this.typingStart(guild) };
      case 'MESSAGE_REACTION_ADD':
        return { t: type, d: this.reactionAdd(guild) };
      case 'GUILD_MEMBER_ADD':
        return { t: type, d: this.memberAdd(guild) };
      case 'INTERACTION_CREATE':
        return { t: type, d: this.interactionCreate(guild) };
    }
  }

  /** A MESSAGE_CREATE `d`; `content` overrides the generated text. */
  messageCreate(guild: WorldGuild, content?: string): Record<string, unknown> {
    const { user: author, ...member } = this.randomMember(guild);
    const channel = this.textChannel(guild);
    const text =
      content ??
      (this.random.chance(this.commandFraction)
        ? this.random.pick(['!ping', '!presence'])
        : this.random.pick(SENTENCES));
    return {
      ...messageFields(this.nextId(), channel.id, author, text, this.timeMs),
      guild_id: guild.id,
      member,
      channel_type: 0,
    };
  }

  /** A direct-message MESSAGE_CREATE `d` (no guild_id; routed to shard 0, GW-SH-2). */
  directMessage(content: string): Record<string, unknown> {
    const guild = this.random.pick(this.guilds);
    const author = this.randomMember(guild);
    return messageFields(this.nextId(), this.nextId(), author.user, content, this.timeMs);
  }

  /** Generator state to persist (PRNG state, stream time, id counters). */
  state(): { random: number; timeMs: number; increment: number; joined: number } {
    return {
      random: this.random.state,
      timeMs: this.timeMs,
      increment: this.increment,
      joined: this.joined,
    };
  }

  /** Continues a stream saved with {@link state}; `elapsedMs` of downtime moves its time on. */
  restore(
    saved: { random: number; timeMs: number; increment: number; joined: number },
    elapsedMs = 0,
  ): void {
    this.random.state = saved.random >>> 0;
    this.timeMs = saved.timeMs + Math.max(0, elapsedMs);
    this.increment = saved.increment;
    this.joined = saved.joined;
  }

  /**
   * A fresh snowflake at the stream's current time, never repeated: when the 12-bit increment
   * wraps (4,096 ids within one millisecond of stream time), the time moves on by 1 ms.
   */
  nextId(): string {
    this.increment = (this.increment + 1) & 0xfff;
    if (this.increment === 0) this.timeMs++;
    return snowflake(
      this.timeMs,
      (this.random.int(0, 31) << 17) | (this.random.int(0, 31) << 12) | this.increment,
    );
  }

  /** A random member of the guild. */
  randomMember(guild: WorldGuild): GeneratedMember {
    return this.member(guild, this.random.int(0, Math.max(0, guild.memberCount - 1)));
  }

  private textChannel(guild: WorldGuild): { id: string } {
    const texts = guild.channels.filter((c) => c.type === 0);
    return this.random.pick(texts.length > 0 ? texts : guild.channels);
  }

  private typingStart(guild: WorldGuild): Record<string, unknown> {
    const member = this.randomMember(guild);
    return {
      channel_id: this.textChannel(guild).id,
      guild_id: guild.id,
      user_id: member.user.id,
      timestamp: Math.floor(this.timeMs / 1000),
      member,
    };
  }

  private reactionAdd(guild: WorldGuild): Record<string, unknown> {
    const member = this.randomMember(guild);
    return {
      user_id: member.user.id,
      channel_id: this.textChannel(guild).id,
      message_id: this.nextId(),
      guild_id: guild.id,
      member,
      emoji: { id: null, name: this.random.pick(EMOJIS) },
      message_author_id: this.randomMember(guild).user.id,
      burst: false,
      burst_colors: [],
      type: 0,
    };
  }

  private memberAdd(guild: WorldGuild): Record<string, unknown> {
    this.joined++;
    const word = this.random.pick(WORDS);
    return {
      user: {
        id: this.nextId(),
        username: `${word}_new${this.joined}`,
        global_name: null,
        discriminator: '0',
        avatar: null,
      },
      nick: null,
      avatar: null,
      banner: null,
      roles: [],
      joined_at: new Date(this.timeMs).toISOString(),
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      guild_id: guild.id,
    };
  }

  private interactionCreate(guild: WorldGuild): Record<string, unknown> {
    const member = this.randomMember(guild);
    const channel = this.textChannel(guild);
    return {
      id: this.nextId(),
      application_id: this.applicationId,
      type: 2,
      data: { id: snowflake(snowflakeTime(guild.id) + 1_000, 1), name: 'ping', type: 1 },
      guild_id: guild.id,
      channel_id: channel.id,
      channel: { id: channel.id, guild_id: guild.id, type: 0 },
      member: { ...member, permissions: '2147483647' },
      token: `aW50ZXJhY3Rpb246${this.random.hex(48)}`,
      version: 1,
      app_permissions: '442368',
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': guild.id },
      context: 0,
    };
  }

  private makeGuild(
    index: number,
    shardId: number,
    shardCount: number,
    channelCount: number,
    r: SeededRandom,
  ): WorldGuild {
    const created = DISCORD_EPOCH + 86_400_000 * r.int(100, 3_000);
    let since = Math.floor(created - DISCORD_EPOCH);
    since += (shardId - (since % shardCount) + shardCount) % shardCount;
    const id = snowflake(DISCORD_EPOCH + since, r.int(0, INDEX_MASK));
    const guildTime = DISCORD_EPOCH + since;
    const channels: WorldGuild['channels'][number][] = [];
    for (let c = 0; c < Math.max(1, channelCount); c++) {
      const voice = c > 0 && c % 4 === 3;
      channels.push({
        id: snowflake(guildTime + (c + 1) * 60_000, r.int(0, INDEX_MASK)),
        name: voice
          ? `voice-${c}`
          : c === 0
            ? 'general'
            : `${WORDS[(index + c) % WORDS.length]}-chat`,
        type: voice ? 2 : 0,
      });
    }
    return {
      index,
      id,
      name: `${WORDS[index % WORDS.length]} guild ${index}`,
      ownerId: snowflake(guildTime - 86_400_000, r.int(0, INDEX_MASK)),
      memberCount: this.membersPerGuild,
      roles: [
        { id, name: '@everyone' },
        { id: snowflake(guildTime + 1_000, r.int(0, INDEX_MASK)), name: 'members' },
        { id: snowflake(guildTime + 2_000, r.int(0, INDEX_MASK)), name: 'moderators' },
      ],
      channels,
    };
  }
}

/**
 * The fields every MESSAGE_CREATE `d` has (a default message, type 0), as documented for the
 * message object; guild messages add `guild_id`, `member` and `channel_type`.
 */
export function messageFields(
  id: string,
  channelId: string,
  author: unknown,
  content: string,
  timeMs: number,
): Record<string, unknown> {
  return {
    id,
    channel_id: channelId,
    author,
    content,
    timestamp: new Date(timeMs).toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    components: [],
    pinned: false,
    type: 0,
    flags: 0,
  };
}
