import { GatewayIntentBits } from 'discord-api-types/v10';
import type { DispatchEventType } from './event-type.js';
import type { DocumentedIntentName } from './intents.js';

/** What gates one dispatch type (docs/protocol.md section 17). */
export interface EventGate {
  /**
   * Intents that make Discord send the event; any ONE of them suffices (e.g. MESSAGE_CREATE:
   * GuildMessages for guilds, DirectMessages for DMs). Empty: sent without any intent.
   */
  readonly intents: readonly DocumentedIntentName[];
  /** Whether the payload's message content fields arrive empty without MessageContent (section 16). */
  readonly contentNeedsMessageContent?: true;
  /** Other gates or exceptions worth knowing (permissions, requests, shard 0). */
  readonly note?: string;
}

const gate = (intents: readonly DocumentedIntentName[], note?: string): EventGate =>
  note === undefined ? { intents } : { intents, note };
const ALWAYS: EventGate = gate([]);
const GUILDS: EventGate = gate(['Guilds']);
const MESSAGES: EventGate = {
  intents: ['GuildMessages', 'DirectMessages'],
  contentNeedsMessageContent: true,
  note:
    'without MessageContent, content, embeds, attachments, components and poll arrive empty ' +
    "(except in DMs, the bot's own messages, messages that mention the bot, and context-menu targets)",
};

/**
 * For every Discord dispatch, the intents that gate it (docs/protocol.md section 17, cross-checked
 * with section 16). The shard and the Nest module use it to warn when a handler waits for an
 * event the configured intents can never deliver.
 */
export const EVENT_GATES: Readonly<Record<DispatchEventType, EventGate>> = Object.freeze({
  READY: gate([], 'session'),
  RESUMED: gate([], 'session'),
  RATE_LIMITED: gate([], 'answer to a rate-limited command'),
  APPLICATION_COMMAND_PERMISSIONS_UPDATE: ALWAYS,
  AUTO_MODERATION_RULE_CREATE: gate(
    ['AutoModerationConfiguration'],
    'the bot also needs MANAGE_GUILD',
  ),
  AUTO_MODERATION_RULE_UPDATE: gate(
    ['AutoModerationConfiguration'],
    'the bot also needs MANAGE_GUILD',
  ),
  AUTO_MODERATION_RULE_DELETE: gate(
    ['AutoModerationConfiguration'],
    'the bot also needs MANAGE_GUILD',
  ),
  AUTO_MODERATION_ACTION_EXECUTION: {
    intents: ['AutoModerationExecution'],
    contentNeedsMessageContent: true,
    note: 'the bot also needs MANAGE_GUILD; content and matched_content need MessageContent',
  },
  CHANNEL_CREATE: GUILDS,
  CHANNEL_UPDATE: GUILDS,
  CHANNEL_DELETE: GUILDS,
  CHANNEL_PINS_UPDATE: gate(['Guilds', 'DirectMessages']),
  CHANNEL_INFO: gate([], 'answer to Request Channel Info (op 43)'),
  THREAD_CREATE: GUILDS,
  THREAD_UPDATE: GUILDS,
  THREAD_DELETE: GUILDS,
  THREAD_LIST_SYNC: GUILDS,
  THREAD_MEMBER_UPDATE: GUILDS,
  THREAD_MEMBERS_UPDATE: gate(
    ['Guilds'],
    'without GuildMembers it only fires when the bot itself was added or removed',
  ),
  ENTITLEMENT_CREATE: gate([], 'sent to shard 0'),
  ENTITLEMENT_UPDATE: gate([], 'sent to shard 0'),
  ENTITLEMENT_DELETE: gate([], 'sent to shard 0'),
  GUILD_CREATE: GUILDS,
  GUILD_UPDATE: GUILDS,
  GUILD_DELETE: GUILDS,
  GUILD_AUDIT_LOG_ENTRY_CREATE: gate(['GuildModeration'], 'the bot also needs VIEW_AUDIT_LOG'),
  GUILD_BAN_ADD: gate(['GuildModeration'], 'the bot also needs BAN_MEMBERS or VIEW_AUDIT_LOG'),
  GUILD_BAN_REMOVE: gate(['GuildModeration'], 'the bot also needs BAN_MEMBERS or VIEW_AUDIT_LOG'),
  GUILD_EMOJIS_UPDATE: gate(['GuildExpressions']),
  GUILD_STICKERS_UPDATE: gate(['GuildExpressions']),
  GUILD_SOUNDBOARD_SOUND_CREATE: gate(['GuildExpressions']),
  GUILD_SOUNDBOARD_SOUND_UPDATE: gate(['GuildExpressions']),
  GUILD_SOUNDBOARD_SOUND_DELETE: gate(['GuildExpressions']),
  GUILD_SOUNDBOARD_SOUNDS_UPDATE: gate(['GuildExpressions']),
  SOUNDBOARD_SOUNDS: gate([], 'answer to Request Soundboard Sounds (op 31)'),
  GUILD_INTEGRATIONS_UPDATE: gate(['GuildIntegrations']),
  INTEGRATION_CREATE: gate(['GuildIntegrations']),
  INTEGRATION_UPDATE: gate(['GuildIntegrations']),
  INTEGRATION_DELETE: gate(['GuildIntegrations']),
  GUILD_MEMBER_ADD: gate(['GuildMembers']),
  GUILD_MEMBER_UPDATE: gate(
    ['GuildMembers'],
    "the bot's own member update is sent without GuildMembers",
  ),
  GUILD_MEMBER_REMOVE: gate(['GuildMembers']),
  GUILD_MEMBERS_CHUNK: gate([], 'answer to Request Guild Members (op 8)'),
  GUILD_ROLE_CREATE: GUILDS,
  GUILD_ROLE_UPDATE: GUILDS,
  GUILD_ROLE_DELETE: GUILDS,
  GUILD_SCHEDULED_EVENT_CREATE: gate(['GuildScheduledEvents']),
  GUILD_SCHEDULED_EVENT_UPDATE: gate(['GuildScheduledEvents']),
  GUILD_SCHEDULED_EVENT_DELETE: gate(['GuildScheduledEvents']),
  GUILD_SCHEDULED_EVENT_USER_ADD: gate(['GuildScheduledEvents']),
  GUILD_SCHEDULED_EVENT_USER_REMOVE: gate(['GuildScheduledEvents']),
  INTERACTION_CREATE: ALWAYS,
  INVITE_CREATE: gate(['GuildInvites'], 'the bot also needs MANAGE_CHANNELS on the channel'),
  INVITE_DELETE: gate(['GuildInvites'], 'the bot also needs MANAGE_CHANNELS on the channel'),
  MESSAGE_CREATE: MESSAGES,
  MESSAGE_UPDATE: MESSAGES,
  MESSAGE_DELETE: gate(['GuildMessages', 'DirectMessages']),
  MESSAGE_DELETE_BULK: gate(['GuildMessages']),
  MESSAGE_REACTION_ADD: gate(['GuildMessageReactions', 'DirectMessageReactions']),
  MESSAGE_REACTION_REMOVE: gate(['GuildMessageReactions', 'DirectMessageReactions']),
  MESSAGE_REACTION_REMOVE_ALL: gate(['GuildMessageReactions', 'DirectMessageReactions']),
  MESSAGE_REACTION_REMOVE_EMOJI: gate(['GuildMessageReactions', 'DirectMessageReactions']),
  MESSAGE_POLL_VOTE_ADD: gate(['GuildMessagePolls', 'DirectMessagePolls']),
  MESSAGE_POLL_VOTE_REMOVE: gate(['GuildMessagePolls', 'DirectMessagePolls']),
  PRESENCE_UPDATE: gate(['GuildPresences']),
  STAGE_INSTANCE_CREATE: GUILDS,
  STAGE_INSTANCE_UPDATE: GUILDS,
  STAGE_INSTANCE_DELETE: GUILDS,
  SUBSCRIPTION_CREATE: gate([], 'sent to shard 0'),
  SUBSCRIPTION_UPDATE: gate([], 'sent to shard 0'),
  SUBSCRIPTION_DELETE: gate([], 'sent to shard 0'),
  TYPING_START: gate(['GuildMessageTyping', 'DirectMessageTyping']),
  USER_UPDATE: ALWAYS,
  VOICE_CHANNEL_EFFECT_SEND: gate(['GuildVoiceStates']),
  VOICE_CHANNEL_STATUS_UPDATE: GUILDS,
  VOICE_CHANNEL_START_TIME_UPDATE: GUILDS,
  VOICE_STATE_UPDATE: gate(['GuildVoiceStates']),
  VOICE_SERVER_UPDATE: gate([], 'answer to Update Voice State (op 4)'),
  WEBHOOKS_UPDATE: gate(['GuildWebhooks']),
});

/** The gate of a dispatch type, or `undefined` for lifecycle events and unknown names. */
export function eventGate(type: string): EventGate | undefined {
  return Object.hasOwn(EVENT_GATES, type) ? EVENT_GATES[type as DispatchEventType] : undefined;
}

/**
 * The intents that can deliver `type`, as bit masks: any one of them suffices. Empty when no
 * intent is needed (READY, INTERACTION_CREATE, ...) and for lifecycle events and unknown names.
 */
export function intentsForEvent(type: string): number[] {
  return (eventGate(type)?.intents ?? []).map((name) => GatewayIntentBits[name]);
}

/**
 * The intents missing for `type` to ever arrive under the `intents` bitfield: empty when it
 * can arrive (or needs none), else the alternatives, any one of which would do. For the
 * startup warning about handlers that can never fire.
 */
export function missingIntentsFor(type: string, intents: number): DocumentedIntentName[] {
  const alternatives = eventGate(type)?.intents ?? [];
  if (alternatives.length === 0) return [];
  for (const name of alternatives) if ((intents & GatewayIntentBits[name]) !== 0) return [];
  return [...alternatives];
}

/**
 * Whether `type` arrives with its message content fields empty under `intents` because
 * MessageContent is not set (MESSAGE_CREATE, MESSAGE_UPDATE, AUTO_MODERATION_ACTION_EXECUTION).
 */
export function messageContentMissing(type: string, intents: number): boolean {
  return (
    eventGate(type)?.contentNeedsMessageContent === true &&
    (intents & GatewayIntentBits.MessageContent) === 0
  );
}
