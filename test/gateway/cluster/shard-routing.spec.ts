import { shardIdForGuild } from '../../../lib/gateway/cluster/shard-routing.js';

describe('shardIdForGuild (GW-SH-1, GW-GT-17)', () => {
  it.each([
    ['197038439483310086', 3, 2],
    ['197038439483310086', 16, 2],
    ['41771983423143937', 3, 0],
    ['41771983423143937', 16, 6],
  ])(
    'GW-SH-1 worked example: guild %s of %i shards is on shard %i',
    (guildId, shardCount, shardId) => {
      expect(shardIdForGuild(guildId, shardCount)).toBe(shardId);
    },
  );

  it('GW-GT-17: uses BigInt (a Number shift would lose the low bits above 2^53)', () => {
    const guildId = '18446744073709551615'; // 2^64 - 1
    expect(shardIdForGuild(guildId, 1_000)).toBe(Number(((2n ** 64n - 1n) >> 22n) % 1_000n));
    expect(shardIdForGuild('0', 7)).toBe(0);
  });

  it('rejects a guild id that is not a snowflake string', () => {
    expect(() => shardIdForGuild('12a', 2)).toThrow(TypeError);
    expect(() => shardIdForGuild(123 as unknown as string, 2)).toThrow(TypeError);
  });
});
