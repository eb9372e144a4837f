import { planLeases } from '../../lib/redis/shard-leases.js';

/**
 * The spread rule alone, run as a group of consumers would run it: rounds in turn, each
 * consumer seeing the holders the others left, hand-overs taking effect at once. The real
 * consumers are tested in stream-consumers.spec.ts; here, many shard and consumer counts.
 */
function settle(
  shards: number,
  names: string[],
  start: (string | null)[],
  moves = { count: 0 },
): (string | null)[] {
  const holders = [...start];
  for (let round = 0; round < 50; round++) {
    let changed = false;
    for (const me of names) {
      const plan = planLeases(me, names, holders, 0);
      const mine = holders.flatMap((h, id) => (h === me ? [id] : []));
      for (const id of mine.slice(mine.length - plan.release)) {
        holders[id] = null;
        changed = true;
      }
      let take = plan.take;
      for (let id = 0; id < shards && take > 0; id++) {
        if (holders[id] !== null) continue;
        holders[id] = me;
        if (start[id] !== null) moves.count++;
        take--;
        changed = true;
      }
    }
    if (!changed) return holders;
  }
  throw new Error(`no stable spread after 50 rounds: ${holders.join(', ')}`);
}

const counts = (holders: (string | null)[], names: string[]) =>
  names.map((name) => holders.filter((h) => h === name).length);

describe("planLeases: the fair spread of a group's shards", () => {
  it('4 shards, 3 consumers from 2+2+0: the richest hands one over, the idle one takes it (2+1+1)', () => {
    const names = ['a1', 'a2', 'a3'];
    expect(planLeases('a1', names, ['a1', 'a1', 'a2', 'a2'])).toEqual({
      share: 2,
      release: 1,
      take: 0,
    });
    // a2 holds as many as a1 but is not first by name: it keeps its two.
    expect(planLeases('a2', names, ['a1', 'a1', 'a2', 'a2'])).toMatchObject({ release: 0 });
    expect(planLeases('a3', names, ['a1', null, 'a2', 'a2'])).toMatchObject({ take: 1 });
    const holders = settle(4, names, ['a1', 'a1', 'a2', 'a2']);
    expect(counts(holders, names).sort()).toEqual([1, 1, 2]);
  });

  it('4 shards held by one of 3 consumers settle as 2+1+1 in two moves: no second hand-over while a shard is free, and the first idle consumer leaves one for the other', () => {
    const names = ['a1', 'a2', 'a3'];
    // a1 took all four alone; a2 and a3 joined: it hands two over (its share is 2).
    expect(planLeases('a1', names, ['a1', 'a1', 'a1', 'a1'])).toMatchObject({ release: 2 });
    // Next round, before a2 and a3 took them: a1 sees its two as given back. a2 and a3 hold
    // nothing, two fewer than a1, but the free shards are theirs to take: a1 keeps its two.
    expect(planLeases('a1', names, ['a1', 'a1', null, null])).toEqual({
      share: 2,
      release: 0,
      take: 0,
    });
    // a2 takes one and leaves one, which a3 needs to reach the floor (1).
    expect(planLeases('a2', names, ['a1', 'a1', null, null])).toMatchObject({ take: 1 });
    expect(planLeases('a3', names, ['a1', 'a1', 'a2', null])).toMatchObject({ take: 1 });
    const moves = { count: 0 };
    const holders = settle(4, names, ['a1', 'a1', 'a1', 'a1'], moves);
    expect(counts(holders, names)).toEqual([2, 1, 1]);
    expect(moves.count).toBe(2);
  });

  it("a lone consumer takes every shard; leases of a consumer no longer registered are nobody's", () => {
    expect(planLeases('a1', ['a1'], [null, null, null, null])).toEqual({
      share: 4,
      release: 0,
      take: 4,
    });
    expect(planLeases('a1', ['a1'], ['gone', 'gone', null, null])).toMatchObject({ take: 2 });
  });

  it.each([
    [4, 3],
    [4, 4],
    [16, 5],
    [16, 3],
    [7, 2],
    [3, 5],
    [64, 9],
  ])(
    '%i shards, %i consumers joining one by one: every shard held, each consumer floor or ceil',
    (shards, consumers) => {
      const names: string[] = [];
      let holders: (string | null)[] = Array.from({ length: shards }, () => null);
      for (let k = 1; k <= consumers; k++) {
        names.push(`c${k}`);
        holders = settle(shards, names, holders);
        const low = Math.floor(shards / names.length);
        const high = Math.ceil(shards / names.length);
        expect(holders.every((h) => h !== null)).toBe(true);
        for (const n of counts(holders, names)) {
          expect(n).toBeGreaterThanOrEqual(low);
          expect(n).toBeLessThanOrEqual(high);
        }
      }
    },
  );
});
