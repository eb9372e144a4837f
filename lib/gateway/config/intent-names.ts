import { GatewayIntentBits } from 'discord-api-types/v10';

/** An intent name: a key of discord-api-types' `GatewayIntentBits` (e.g. `'GuildMessages'`). */
export type IntentName = keyof typeof GatewayIntentBits;

const BIT_BY_NAME: ReadonlyMap<string, number> = new Map(
  Object.entries(GatewayIntentBits).filter(
    (entry): entry is [string, number] => typeof entry[1] === 'number',
  ),
);

/** Every intent bit Discord documents (PROTOCOL.md section 16: 53608447). */
export const KNOWN_INTENTS_MASK: number = [...BIT_BY_NAME.values()].reduce(
  (mask, bit) => mask | bit,
  0,
);

/** The bit of an intent name, or `undefined` for a name Discord does not define. */
export function intentBit(name: string): number | undefined {
  return BIT_BY_NAME.get(name);
}

/** The bit positions in `intents` that Discord does not define (sending them gets 4013). */
export function unknownIntentBits(intents: number): number[] {
  const unknown: number[] = [];
  for (let bit = 0; bit < 53; bit++) {
    if (
      Math.floor(intents / 2 ** bit) % 2 === 1 &&
      (bit > 30 || (KNOWN_INTENTS_MASK & (1 << bit)) === 0)
    ) {
      unknown.push(bit);
    }
  }
  return unknown;
}
