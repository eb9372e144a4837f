import { GatewayDispatchEvents, GatewayIntentBits } from 'discord-api-types/v10';
import {
  EVENT_GATES,
  EventType,
  INTENT_NAMES,
  KNOWN_INTENTS,
  eventGate,
  intentsForEvent,
  messageContentMissing,
  missingIntentsFor,
  type DocumentedIntentName,
} from '../../../lib/gateway/events/index.js';

/** docs/protocol.md section 16's table, intent -> events it carries, copied independently of section 17. */
const SECTION_16: Record<DocumentedIntentName, string[]> = {
  Guilds: [
    'GUILD_CREATE',
    'GUILD_UPDATE',
    'GUILD_DELETE',
    'GUILD_ROLE_CREATE',
    'GUILD_ROLE_UPDATE',
    'GUILD_ROLE_DELETE',
    'CHANNEL_CREATE',
    'CHANNEL_UPDATE',
    'CHANNEL_DELETE',
    'CHANNEL_PINS_UPDATE',
    'THREAD_CREATE',
    'THREAD_UPDATE',
    'THREAD_DELETE',
    'THREAD_LIST_SYNC',
    'THREAD_MEMBER_UPDATE',
    'THREAD_MEMBERS_UPDATE',
    'STAGE_INSTANCE_CREATE',
    'STAGE_INSTANCE_UPDATE',
    'STAGE_INSTANCE_DELETE',
    'VOICE_CHANNEL_STATUS_UPDATE',
    'VOICE_CHANNEL_START_TIME_UPDATE',
  ],
  GuildMembers: [
    'GUILD_MEMBER_ADD',
    'GUILD_MEMBER_UPDATE',
    'GUILD_MEMBER_REMOVE',
    'THREAD_MEMBERS_UPDATE',
  ],
  GuildModeration: ['GUILD_AUDIT_LOG_ENTRY_CREATE', 'GUILD_BAN_ADD', 'GUILD_BAN_REMOVE'],
  GuildExpressions: [
    'GUILD_EMOJIS_UPDATE',
    'GUILD_STICKERS_UPDATE',
    'GUILD_SOUNDBOARD_SOUND_CREATE',
    'GUILD_SOUNDBOARD_SOUND_UPDATE',
    'GUILD_SOUNDBOARD_SOUND_DELETE',
    'GUILD_SOUNDBOARD_SOUNDS_UPDATE',
  ],
  GuildIntegrations: [
    'GUILD_INTEGRATIONS_UPDATE',
    'INTEGRATION_CREATE',
    'INTEGRATION_UPDATE',
    'INTEGRATION_DELETE',
  ],
  GuildWebhooks: ['WEBHOOKS_UPDATE'],
  GuildInvites: ['INVITE_CREATE', 'INVITE_DELETE'],
  GuildVoiceStates: ['VOICE_CHANNEL_EFFECT_SEND', 'VOICE_STATE_UPDATE'],
  GuildPresences: ['PRESENCE_UPDATE'],
  GuildMessages: ['MESSAGE_CREATE', 'MESSAGE_UPDATE', 'MESSAGE_DELETE', 'MESSAGE_DELETE_BULK'],
  GuildMessageReactions: [
    'MESSAGE_REACTION_ADD',
    'MESSAGE_REACTION_REMOVE',
    'MESSAGE_REACTION_REMOVE_ALL',
    'MESSAGE_REACTION_REMOVE_EMOJI',
  ],
  GuildMessageTyping: ['TYPING_START'],
  DirectMessages: ['MESSAGE_CREATE', 'MESSAGE_UPDATE', 'MESSAGE_DELETE', 'CHANNEL_PINS_UPDATE'],
  DirectMessageReactions: [
    'MESSAGE_REACTION_ADD',
    'MESSAGE_REACTION_REMOVE',
    'MESSAGE_REACTION_REMOVE_ALL',
    'MESSAGE_REACTION_REMOVE_EMOJI',
  ],
  DirectMessageTyping: ['TYPING_START'],
  MessageContent: [],
  GuildScheduledEvents: [
    'GUILD_SCHEDULED_EVENT_CREATE',
    'GUILD_SCHEDULED_EVENT_UPDATE',
    'GUILD_SCHEDULED_EVENT_DELETE',
    'GUILD_SCHEDULED_EVENT_USER_ADD',
    'GUILD_SCHEDULED_EVENT_USER_REMOVE',
  ],
  AutoModerationConfiguration: [
    'AUTO_MODERATION_RULE_CREATE',
    'AUTO_MODERATION_RULE_UPDATE',
    'AUTO_MODERATION_RULE_DELETE',
  ],
  AutoModerationExecution: ['AUTO_MODERATION_ACTION_EXECUTION'],
  GuildMessagePolls: ['MESSAGE_POLL_VOTE_ADD', 'MESSAGE_POLL_VOTE_REMOVE'],
  DirectMessagePolls: ['MESSAGE_POLL_VOTE_ADD', 'MESSAGE_POLL_VOTE_REMOVE'],
};

/** Section 17's "none" rows. */
const UNGATED = [
  'READY',
  'RESUMED',
  'RATE_LIMITED',
  'APPLICATION_COMMAND_PERMISSIONS_UPDATE',
  'CHANNEL_INFO',
  'ENTITLEMENT_CREATE',
  'ENTITLEMENT_UPDATE',
  'ENTITLEMENT_DELETE',
  'SOUNDBOARD_SOUNDS',
  'GUILD_MEMBERS_CHUNK',
  'INTERACTION_CREATE',
  'SUBSCRIPTION_CREATE',
  'SUBSCRIPTION_UPDATE',
  'SUBSCRIPTION_DELETE',
  'USER_UPDATE',
  'VOICE_SERVER_UPDATE',
];

describe('event gates (docs/protocol.md sections 16 and 17)', () => {
  it('every dispatch type of discord-api-types has a gate, and the table has no other keys', () => {
    expect(Object.keys(EVENT_GATES).sort()).toEqual(Object.values(GatewayDispatchEvents).sort());
  });

  it.each(Object.keys(EVENT_GATES))(
    '%s is gated exactly by the intents section 16 lists it under',
    (type) => {
      const expected = INTENT_NAMES.filter((name) => SECTION_16[name].includes(type));
      // THREAD_MEMBERS_UPDATE: GuildMembers only widens it (section 17: "GUILDS (+ GUILD_MEMBERS for other users)").
      const listed = type === 'THREAD_MEMBERS_UPDATE' ? ['Guilds'] : expected;
      expect([...eventGate(type)!.intents].sort()).toEqual([...listed].sort());
      expect(eventGate(type)!.intents.length === 0).toBe(UNGATED.includes(type));
    },
  );

  it('intentsForEvent gives the alternatives as bits; lifecycle and unknown names need none', () => {
    expect(intentsForEvent('MESSAGE_CREATE')).toEqual([
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.DirectMessages,
    ]);
    expect(intentsForEvent('READY')).toEqual([]);
    expect(intentsForEvent(EventType.ShardReady)).toEqual([]);
    expect(intentsForEvent('SOMETHING_NEW')).toEqual([]);
    expect(intentsForEvent('toString')).toEqual([]);
    for (const type of Object.keys(EVENT_GATES)) {
      for (const bit of intentsForEvent(type)) expect(KNOWN_INTENTS & bit).toBe(bit);
    }
  });

  it('missingIntentsFor: empty when any alternative is set, else every alternative', () => {
    const guilds = GatewayIntentBits.Guilds;
    expect(missingIntentsFor('MESSAGE_CREATE', guilds)).toEqual([
      'GuildMessages',
      'DirectMessages',
    ]);
    expect(missingIntentsFor('MESSAGE_CREATE', guilds | GatewayIntentBits.DirectMessages)).toEqual(
      [],
    );
    expect(missingIntentsFor('MESSAGE_DELETE_BULK', GatewayIntentBits.DirectMessages)).toEqual([
      'GuildMessages',
    ]);
    expect(
      missingIntentsFor('PRESENCE_UPDATE', KNOWN_INTENTS & ~GatewayIntentBits.GuildPresences),
    ).toEqual(['GuildPresences']);
    expect(missingIntentsFor('READY', 0)).toEqual([]);
    expect(missingIntentsFor('INTERACTION_CREATE', 0)).toEqual([]);
    expect(missingIntentsFor(EventType.ShardFatal, 0)).toEqual([]);
    expect(missingIntentsFor('SOMETHING_NEW', 0)).toEqual([]);
    for (const type of Object.keys(EVENT_GATES))
      expect(missingIntentsFor(type, KNOWN_INTENTS)).toEqual([]);
  });

  it('MessageContent: MESSAGE_CREATE/UPDATE and AutoMod executions arrive without content unless it is set', () => {
    const messages = GatewayIntentBits.GuildMessages;
    for (const type of ['MESSAGE_CREATE', 'MESSAGE_UPDATE', 'AUTO_MODERATION_ACTION_EXECUTION']) {
      expect(messageContentMissing(type, messages)).toBe(true);
      expect(messageContentMissing(type, messages | GatewayIntentBits.MessageContent)).toBe(false);
    }
    expect(messageContentMissing('MESSAGE_DELETE', messages)).toBe(false);
    expect(messageContentMissing('SOMETHING_NEW', 0)).toBe(false);
    expect(eventGate('MESSAGE_CREATE')!.note).toMatch(/MessageContent/);
  });

  it("notes carry section 17's other gates", () => {
    expect(eventGate('GUILD_MEMBER_UPDATE')!.note).toMatch(/bot's own/);
    expect(eventGate('THREAD_MEMBERS_UPDATE')!.note).toMatch(/GuildMembers/);
    expect(eventGate('GUILD_BAN_ADD')!.note).toMatch(/BAN_MEMBERS/);
    expect(eventGate('ENTITLEMENT_CREATE')!.note).toMatch(/shard 0/);
  });
});
