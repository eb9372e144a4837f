import { GatewayIntentBits } from 'discord-api-types/v10';
import type { ConfigIssue } from '../errors/errors.js';

/**
 * An intent name as discord-api-types' `GatewayIntentBits` spells it, e.g. `'GuildMessages'`.
 * Deprecated aliases (`GuildBans`, `GuildEmojisAndStickers`) are accepted as input.
 */
export type IntentName = keyof typeof GatewayIntentBits;

/** The documented intents (docs/protocol.md section 16), by their current names, in bit order. */
export const INTENT_NAMES = Object.freeze([
  'Guilds',
  'GuildMembers',
  'GuildModeration',
  'GuildExpressions',
  'GuildIntegrations',
  'GuildWebhooks',
  'GuildInvites',
  'GuildVoiceStates',
  'GuildPresences',
  'GuildMessages',
  'GuildMessageReactions',
  'GuildMessageTyping',
  'DirectMessages',
  'DirectMessageReactions',
  'DirectMessageTyping',
  'MessageContent',
  'GuildScheduledEvents',
  'AutoModerationConfiguration',
  'AutoModerationExecution',
  'GuildMessagePolls',
  'DirectMessagePolls',
] as const satisfies readonly IntentName[]);

/** One of {@link INTENT_NAMES}: a documented intent under its current name. */
export type DocumentedIntentName = (typeof INTENT_NAMES)[number];

/** Every documented intent bit: 53608447 (docs/protocol.md section 16). Other bits get close code 4013. */
export const KNOWN_INTENTS: number = INTENT_NAMES.reduce(
  (mask, name) => mask | GatewayIntentBits[name],
  0,
);

/**
 * The privileged intents, which need a Developer Portal toggle (and review for large apps),
 * else close code 4014: GuildMembers | GuildPresences | MessageContent = 33026 (section 16).
 */
export const PRIVILEGED_INTENTS: number =
  GatewayIntentBits.GuildMembers |
  GatewayIntentBits.GuildPresences |
  GatewayIntentBits.MessageContent;

/** Result of {@link parseIntents}: the bitfield, and every problem found (empty when valid). */
export interface ParsedIntents {
  readonly intents: number;
  readonly problems: readonly ConfigIssue[];
}

/**
 * Reads the `intents` option: a bitfield, or an array of {@link IntentName}s (OR-ed together).
 * Reports every problem instead of throwing, with paths under `path` (default `intents`):
 * a number that is not a non-negative integer, undocumented bits (the gateway would close with
 * 4013, docs/protocol.md section 10), entries that are not known intent names, or any other type. Problems
 * name positions and bit numbers, never the offending values.
 */
export function parseIntents(value: unknown, path = 'intents'): ParsedIntents {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      return { intents: 0, problems: [{ path, rule: 'must be a non-negative integer bitfield' }] };
    }
    const unknown = unknownBits(value);
    const problems =
      unknown.length === 0
        ? []
        : [
            {
              path,
              rule: `has undocumented bit(s) ${unknown.join(', ')}; only documented intents are allowed (the gateway closes with 4013)`,
            },
          ];
    return { intents: problems.length === 0 ? value : value & KNOWN_INTENTS, problems };
  }
  if (Array.isArray(value)) {
    let intents = 0;
    const problems: ConfigIssue[] = [];
    value.forEach((name: unknown, index) => {
      if (typeof name === 'string' && isIntentName(name)) {
        intents |= GatewayIntentBits[name];
      } else {
        problems.push({
          path: `${path}[${index}]`,
          rule: `must be an intent name (one of ${INTENT_NAMES.join(', ')})`,
        });
      }
    });
    return { intents, problems };
  }
  return {
    intents: 0,
    problems: [{ path, rule: 'must be an integer bitfield or an array of intent names' }],
  };
}

/** Whether `name` is a key of `GatewayIntentBits` (aliases included). */
export function isIntentName(name: string): name is IntentName {
  return (
    Object.hasOwn(GatewayIntentBits, name) &&
    typeof GatewayIntentBits[name as IntentName] === 'number'
  );
}

/** The documented intents set in `intents`, in bit order. */
export function intentNames(intents: number): DocumentedIntentName[] {
  return INTENT_NAMES.filter((name) => (intents & GatewayIntentBits[name]) !== 0);
}

/** The privileged intents set in `intents` (for the 4014 error, docs/protocol.md section 10). */
export function privilegedIntentNames(intents: number): DocumentedIntentName[] {
  return intentNames(intents & PRIVILEGED_INTENTS);
}

/** Bit numbers set in `value` that are not documented intents. */
function unknownBits(value: number): number[] {
  const bits: number[] = [];
  let rest = BigInt(value) & ~BigInt(KNOWN_INTENTS);
  for (let bit = 0; rest !== 0n; bit++, rest >>= 1n) {
    if ((rest & 1n) === 1n) bits.push(bit);
  }
  return bits;
}
