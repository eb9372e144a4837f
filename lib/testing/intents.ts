import { GatewayIntentBits } from 'discord-api-types/v10';

const I = GatewayIntentBits;

/** Every documented intent bit (docs/protocol.md section 16): 53608447. */
export const KNOWN_INTENTS: number = Object.values(I)
  .filter((bit): bit is number => typeof bit === 'number')
  .reduce((mask, bit) => mask | bit, 0);

/** GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT: 33026 (docs/protocol.md section 16). */
export const PRIVILEGED_INTENTS: number = I.GuildMembers | I.GuildPresences | I.MessageContent;

/**
 * Which intents let a dispatch through, per docs/protocol.md section 17: `guild` applies when the
 * payload has a `guild_id`, `dm` when it has none. A missing entry means "always sent".
 * Any one bit of the mask is enough.
 */
interface Gate {
  readonly guild: number;
  readonly dm?: number;
}

const gates = new Map<string, Gate>();
const gate = (types: readonly string[], guild: number, dm?: number): void => {
  for (const t of types) gates.set(t, { guild, dm });
};

gate(
  ['AUTO_MODERATION_RULE_CREATE', 'AUTO_MODERATION_RULE_UPDATE', 'AUTO_MODERATION_RULE_DELETE'],
  I.AutoModerationConfiguration,
);
gate(['AUTO_MODERATION_ACTION_EXECUTION'], I.AutoModerationExecution);
gate(
  [
    'CHANNEL_CREATE',
    'CHANNEL_UPDATE',
    'CHANNEL_DELETE',
    'THREAD_CREATE',
    'THREAD_UPDATE',
    'THREAD_DELETE',
    'THREAD_LIST_SYNC',
    'THREAD_MEMBER_UPDATE',
    'THREAD_MEMBERS_UPDATE',
    'GUILD_CREATE',
    'GUILD_UPDATE',
    'GUILD_DELETE',
    'GUILD_ROLE_CREATE',
    'GUILD_ROLE_UPDATE',
    'GUILD_ROLE_DELETE',
    'STAGE_INSTANCE_CREATE',
    'STAGE_INSTANCE_UPDATE',
    'STAGE_INSTANCE_DELETE',
    'VOICE_CHANNEL_STATUS_UPDATE',
    'VOICE_CHANNEL_START_TIME_UPDATE',
  ],
  I.Guilds,
);
gate(['CHANNEL_PINS_UPDATE'], I.Guilds, I.DirectMessages);
gate(['GUILD_AUDIT_LOG_ENTRY_CREATE', 'GUILD_BAN_ADD', 'GUILD_BAN_REMOVE'], I.GuildModeration);
gate(
  [
    'GUILD_EMOJIS_UPDATE',
    'GUILD_STICKERS_UPDATE',
    'GUILD_SOUNDBOARD_SOUND_CREATE',
    'GUILD_SOUNDBOARD_SOUND_UPDATE',
    'GUILD_SOUNDBOARD_SOUND_DELETE',
    'GUILD_SOUNDBOARD_SOUNDS_UPDATE',
  ],
  I.GuildExpressions,
);
gate(
  ['GUILD_INTEGRATIONS_UPDATE', 'INTEGRATION_CREATE', 'INTEGRATION_UPDATE', 'INTEGRATION_DELETE'],
  I.GuildIntegrations,
);
gate(['GUILD_MEMBER_ADD', 'GUILD_MEMBER_UPDATE', 'GUILD_MEMBER_REMOVE'], I.GuildMembers);
gate(
  [
    'GUILD_SCHEDULED_EVENT_CREATE',
    'GUILD_SCHEDULED_EVENT_UPDATE',
    'GUILD_SCHEDULED_EVENT_DELETE',
    'GUILD_SCHEDULED_EVENT_USER_ADD',
    'GUILD_SCHEDULED_EVENT_USER_REMOVE',
  ],
  I.GuildScheduledEvents,
);
gate(['INVITE_CREATE', 'INVITE_DELETE'], I.GuildInvites);
gate(['MESSAGE_CREATE', 'MESSAGE_UPDATE', 'MESSAGE_DELETE'], I.GuildMessages, I.DirectMessages);
gate(['MESSAGE_DELETE_BULK'], I.GuildMessages);
gate(
  [
    'MESSAGE_REACTION_ADD',
    'MESSAGE_REACTION_REMOVE',
    'MESSAGE_REACTION_REMOVE_ALL',
    'MESSAGE_REACTION_REMOVE_EMOJI',
  ],
  I.GuildMessageReactions,
  I.DirectMessageReactions,
);
gate(
  ['MESSAGE_POLL_VOTE_ADD', 'MESSAGE_POLL_VOTE_REMOVE'],
  I.GuildMessagePolls,
  I.DirectMessagePolls,
);
gate(['PRESENCE_UPDATE'], I.GuildPresences);
gate(['TYPING_START'], I.GuildMessageTyping, I.DirectMessageTyping);
gate(['VOICE_CHANNEL_EFFECT_SEND', 'VOICE_STATE_UPDATE'], I.GuildVoiceStates);
gate(['WEBHOOKS_UPDATE'], I.GuildWebhooks);

const hasGuildId = (d: unknown): boolean =>
  typeof d === 'object' && d !== null && typeof (d as { guild_id?: unknown }).guild_id === 'string';

/**
 * Whether a session identified with `intents` receives dispatch `t` with data `d`
 * (docs/protocol.md section 17). The bot's own GUILD_MEMBER_UPDATE always passes (section 16).
 */
export function dispatchAllowed(
  t: string,
  d: unknown,
  intents: number,
  botUserId: string,
): boolean {
  const rule = gates.get(t);
  if (rule === undefined) return true;
  if (t === 'GUILD_MEMBER_UPDATE' && (d as { user?: { id?: string } })?.user?.id === botUserId)
    return true;
  const mask = hasGuildId(d) ? rule.guild : (rule.dm ?? rule.guild);
  return (intents & mask) !== 0;
}

interface MessageLike {
  guild_id?: string;
  author?: { id?: string };
  mentions?: { id?: string }[];
}

/**
 * Without MESSAGE_CONTENT, guild messages arrive with `content`, `embeds`, `attachments`,
 * `components` and `poll` emptied, except the bot's own messages and messages that mention
 * it (docs/protocol.md section 16). Returns `d` itself when nothing changes, else a shallow copy.
 */
export function applyMessageContentIntent(
  t: string,
  d: unknown,
  intents: number,
  botUserId: string,
): unknown {
  if (t !== 'MESSAGE_CREATE' && t !== 'MESSAGE_UPDATE') return d;
  if ((intents & I.MessageContent) !== 0 || !hasGuildId(d)) return d;
  const message = d as MessageLike & Record<string, unknown>;
  if (message.author?.id === botUserId) return d;
  if (message.mentions?.some((user) => user.id === botUserId)) return d;
  const stripped: Record<string, unknown> = {
    ...message,
    content: '',
    embeds: [],
    attachments: [],
    components: [],
  };
  if ('poll' in message) delete stripped.poll;
  return stripped;
}
