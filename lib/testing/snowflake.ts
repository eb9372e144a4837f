/** Discord's epoch: the first millisecond of 2015 (ms since the Unix epoch). */
export const DISCORD_EPOCH = 1_420_070_400_000;

/**
 * Builds a snowflake string from its parts: 42 bits of ms since {@link DISCORD_EPOCH}, then
 * 5 bits worker, 5 bits process, 12 bits increment. `low22` sets the 22 low bits at once.
 */
export function snowflake(timestampMs: number, low22: number): string {
  const since = BigInt(Math.max(0, Math.floor(timestampMs - DISCORD_EPOCH)));
  return ((since << 22n) | BigInt(low22 & 0x3fffff)).toString();
}

/** Unix ms encoded in a snowflake. */
export function snowflakeTime(id: string): number {
  return Number(BigInt(id) >> 22n) + DISCORD_EPOCH;
}

/** The shard a guild belongs to: `(guild_id >> 22) % shard_count`, in BigInt (GW-SH-1, GW-GT-17). */
export function shardForGuild(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}
