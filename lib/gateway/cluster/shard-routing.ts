/**
 * The shard that receives a guild's events: `(guild_id >> 22) % shardCount` in BigInt, since
 * snowflakes exceed 2^53 (Discord docs: Gateway, Sharding).
 *
 * @param guildId a snowflake as a decimal string
 * @param shardCount total shards of the bot (>= 1)
 * @throws TypeError when `guildId` is not a decimal snowflake string
 */
export function shardIdForGuild(guildId: string, shardCount: number): number {
  if (typeof guildId !== 'string' || !/^\d{1,20}$/.test(guildId)) {
    throw new TypeError('guildId must be a snowflake (a string of up to 20 decimal digits)');
  }
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}
