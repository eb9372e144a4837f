import type { Redis } from 'ioredis';
import type { GatewayLogger } from '../gateway/logger.js';
import type { RedisKeys } from './keys.js';
import { RedisScript } from './script.js';

/** One shard stream a consumer holds the lease of. */
export interface HeldShard {
  readonly id: number;
  /** The shard's stream key. */
  readonly key: string;
  /** Reclaim the idle entries other consumers left pending (set each lease round). */
  reclaim: boolean;
  /** Run this consumer's own pending entries first (set when the lease is taken). */
  runOwnPending: boolean;
  /** The lease is to be handed over at the next entry boundary. */
  release: boolean;
}

/** Options of {@link ShardLeases}. Times in ms. */
export interface ShardLeasesOptions {
  /** Never closed here. */
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly shardCount: number;
  readonly group: string;
  readonly consumerName: string;
  readonly leaseMs: number;
  /** Entries read (and handed-over entries claimed) per call. */
  readonly batchSize: number;
  readonly logger: GatewayLogger;
}

/**
 * KEYS: consumers. ARGV: name, lease (ms). Registers (or renews) the consumer until now + lease,
 * drops the registrations that lapsed, and returns the group's live consumers.
 */
const JOIN_SCRIPT = new RedisScript(
  'consumerPresence',
  `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)
`,
);

/** KEYS: lease. ARGV: name, lease (ms). Renews a lease this consumer holds: 1, else 0. */
const RENEW_SCRIPT = new RedisScript(
  'leaseRenew',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`,
);

/** KEYS: lease. ARGV: name. Gives up a lease this consumer holds, naming no one: 1, else 0. */
const DROP_SCRIPT = new RedisScript(
  'leaseDrop',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);

/**
 * KEYS: lease, handover. ARGV: name, handover lifetime (ms). Gives up a lease this consumer
 * holds and names it in the handover key, so the next holder takes the entries it left pending
 * at once instead of after the idle timeout.
 */
const RELEASE_SCRIPT = new RedisScript(
  'leaseHandOver',
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
`,
);

/** What one consumer does with its leases in a round: see {@link planLeases}. */
export interface LeasePlan {
  /** The group's fair share: `ceil(shards / live consumers)`. */
  readonly share: number;
  /** How many of its leases the consumer hands over. */
  readonly release: number;
  /** How many free shards it may take. */
  readonly take: number;
}

/**
 * The fair spread of a group's shards, as one consumer judges it from what Redis shows:
 * `holders[i]` is the consumer holding shard `i`'s lease (`null`: free), `live` the group's
 * registered consumers. Every consumer applies the same rule, so the group converges to counts
 * that differ by at most one (each holds `floor` or `ceil` of shards / consumers):
 *
 * - no consumer holds more than `ceil(shards / live)`: the excess is handed over;
 * - the consumer holding the most (ties: the first name in sort order) hands one over while
 *   another live consumer holds two fewer and no shard is free (4 shards, 3 consumers: 2+2+0
 *   becomes 2+1+1). A free shard, or one this consumer is already handing over (given as
 *   `null`), goes to the poorer consumer first: handing over more before it is taken would
 *   move one shard too many;
 * - a consumer takes free shards up to the share while no other live consumer holds fewer
 *   than it does (so the shards go to the idle ones first), or without that condition when
 *   `longFree` shards stayed free a whole round (nobody else took them). It leaves as many
 *   free shards as the others need to reach `floor(shards / live)`, unless it is below that
 *   itself (4 shards free, a1 holding 2, a2 and a3 none: a2 takes one and leaves one to a3).
 *
 * Leases of consumers that are no longer registered are counted as nobody's (they lapse).
 */
export function planLeases(
  me: string,
  live: readonly string[],
  holders: readonly (string | null)[],
  longFree = 0,
): LeasePlan {
  const counts = new Map<string, number>([[me, 0]]);
  for (const name of live) counts.set(name, 0);
  let free = 0;
  for (const holder of holders) {
    if (holder === null) free++;
    else if (counts.has(holder)) counts.set(holder, (counts.get(holder) as number) + 1);
  }
  const share = Math.ceil(holders.length / counts.size);
  const mine = counts.get(me) as number;
  const others = [...counts].filter(([name]) => name !== me).map(([, n]) => n);
  const fewest = Math.min(...others);
  if (mine > share) return { share, release: mine - share, take: 0 };
  const most = Math.max(...counts.values());
  const richest = [...counts]
    .filter(([, n]) => n === most)
    .map(([name]) => name)
    .sort()[0];
  if (richest === me && mine > fewest + 1 && free === 0) return { share, release: 1, take: 0 };
  const room = Math.max(0, share - mine);
  if (mine > fewest) return { share, release: 0, take: Math.min(room, longFree) };
  const low = Math.floor(holders.length / counts.size);
  const othersNeed = others.reduce((sum, n) => sum + Math.max(0, low - n), 0);
  const take = Math.min(room, free, Math.max(free - othersNeed, low - mine));
  return { share, release: 0, take };
}

/**
 * The shard leases of one consumer of a group (`SET NX PX`, renewed each round), spread fairly
 * over the group's live consumers ({@link planLeases}). Live consumers are registered in a
 * sorted set (`RedisKeys.consumers`) scored by when their registration lapses: one lease
 * length after their last round. A consumer that dies stops renewing; its leases lapse after
 * `leaseMs` and the others take its shards.
 *
 * Hand-over: a consumer holding more than its share marks a shard `release`; the reader stops
 * that shard at the next entry boundary (the entry in hand finished and acknowledged) and
 * calls {@link handOver}. The next holder claims the entries the previous one had read but not
 * run (XCLAIM) before it reads new ones, so the shard's order is kept. It does the same when it
 * takes a lease that lapsed (its holder died), without waiting for the entries' idle timeout.
 */
export class ShardLeases {
  /** The shards whose leases this consumer holds, by shard id. */
  readonly held = new Map<number, HeldShard>();
  private readonly redis: Redis;
  private freeLastRound = new Set<number>();

  constructor(private readonly options: ShardLeasesOptions) {
    this.redis = options.redis;
  }

  /**
   * One round: registration, renewals, then the spread (hand-overs marked, free shards taken).
   * Run it every third of `leaseMs`.
   * @throws (rejects) ioredis's error when Redis cannot be reached.
   */
  async round(): Promise<void> {
    const { keys, shardCount, group, consumerName, leaseMs, logger } = this.options;
    const live = (await JOIN_SCRIPT.run(
      this.redis,
      [keys.consumers(shardCount, group)],
      [consumerName, leaseMs],
    )) as string[];
    for (const shard of [...this.held.values()]) {
      const kept = await RENEW_SCRIPT.run(
        this.redis,
        [this.leaseKey(shard.id)],
        [consumerName, leaseMs],
      );
      if (kept === 0) {
        this.held.delete(shard.id);
        logger.warn(`Consumer ${consumerName} lost its lease of shard ${shard.id}`);
      } else {
        shard.reclaim = true;
      }
    }
    const holders = await this.redis.mget(
      ...Array.from({ length: shardCount }, (_, id) => this.leaseKey(id)),
    );
    // A shard being handed over is still this consumer's until the reader gives it back.
    const freeNow = new Set<number>();
    holders.forEach((holder, id) => {
      if (holder === null) freeNow.add(id);
    });
    const longFree = [...freeNow].filter((id) => this.freeLastRound.has(id)).length;
    this.freeLastRound = freeNow;
    // Shards already being handed over count as given back.
    const plan = planLeases(
      consumerName,
      live,
      holders.map((holder, id) => (this.held.get(id)?.release === true ? null : holder)),
      longFree,
    );
    if (plan.release > 0) {
      const keep = [...this.held.values()].filter((s) => !s.release);
      for (const shard of keep.slice(keep.length - plan.release)) shard.release = true;
    } else if (plan.take > 0) {
      await this.take(plan.take, freeNow);
    }
  }

  /**
   * Gives back `shard`'s lease, naming this consumer as the one whose pending entries of the
   * shard the next holder claims. Call it at an entry boundary.
   */
  async handOver(shard: HeldShard): Promise<void> {
    const { consumerName, leaseMs, logger } = this.options;
    if (this.held.get(shard.id) !== shard) return;
    this.held.delete(shard.id);
    await RELEASE_SCRIPT.run(
      this.redis,
      [this.leaseKey(shard.id), this.handoverKey(shard.id)],
      [consumerName, 10 * leaseMs],
    );
    logger.debug(`Consumer ${consumerName} handed shard ${shard.id} over`);
  }

  /** Gives back every lease (at shutdown, after the last batch); never throws. */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held.values()].map((s) => this.handOver(s).catch(() => undefined)));
    await this.redis
      .zrem(
        this.options.keys.consumers(this.options.shardCount, this.options.group),
        this.options.consumerName,
      )
      .catch(() => undefined);
  }

  private leaseKey(shardId: number): string {
    return this.options.keys.lease(this.options.shardCount, this.options.group, shardId);
  }

  private handoverKey(shardId: number): string {
    return this.options.keys.handover(this.options.shardCount, this.options.group, shardId);
  }

  private async take(wanted: number, free: ReadonlySet<number>): Promise<void> {
    const { keys, shardCount, consumerName, leaseMs, logger } = this.options;
    // Start at a point of the consumer's own, so consumers starting together try different shards first.
    const start = [...consumerName].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
    for (let i = 0; i < shardCount && wanted > 0; i++) {
      const id = (start + i) % shardCount;
      if (this.held.has(id) || !free.has(id)) continue;
      const taken = await this.redis.set(this.leaseKey(id), consumerName, 'PX', leaseMs, 'NX');
      if (taken !== 'OK') continue;
      const key = keys.events(shardCount, id);
      try {
        // Handed over: the entries its last holder left pending. Lapsed (no hand-over): every
        // entry pending at another consumer.
        const from = await this.redis.getdel(this.handoverKey(id));
        if (from !== consumerName) {
          const claimed = await this.claimPending(key, from);
          if (from === null && claimed > 0) {
            logger.log(
              `Consumer ${consumerName} reclaimed ${claimed} pending entr${claimed === 1 ? 'y' : 'ies'} of shard ${id} (its previous holder's lease lapsed)`,
            );
          }
        }
      } catch (error) {
        // Not read until its pending entries are claimed (NOGROUP: Redis lost the group): the
        // lease goes back at once rather than sit unread until it lapses.
        await DROP_SCRIPT.run(this.redis, [this.leaseKey(id)], [consumerName]).catch(() => 0);
        throw error;
      }
      this.held.set(id, { id, key, reclaim: true, runOwnPending: true, release: false });
      wanted--;
      logger.debug(`Consumer ${consumerName} took shard ${id}`);
    }
  }

  /**
   * Moves into this consumer's pending list the entries of `key` pending at `from` (a consumer
   * that handed the shard over), or with `from` `null` at any other consumer (the lease
   * lapsed: its holder died or lost Redis, and some of its entries may be idle for less than
   * `claimIdleMs`). They then run before any newer entry of the shard, so its order holds; a
   * holder still alive and mid-entry may run one twice, which at-least-once delivery allows.
   * @returns how many entries were claimed.
   */
  private async claimPending(key: string, from: string | null): Promise<number> {
    const { group, consumerName, batchSize } = this.options;
    let start = '-';
    let claimed = 0;
    for (;;) {
      const pending = (await (from === null
        ? this.redis.xpending(key, group, start, '+', batchSize)
        : this.redis.xpending(key, group, start, '+', batchSize, from))) as [
        string,
        string,
        ...unknown[],
      ][];
      const theirs = pending.filter(([, owner]) => owner !== consumerName).map(([id]) => id);
      if (theirs.length > 0) {
        await this.redis.xclaim(key, group, consumerName, 0, ...theirs, 'JUSTID');
        claimed += theirs.length;
      }
      if (pending.length < batchSize) return claimed;
      start = `(${pending[pending.length - 1]![0]}`;
    }
  }
}
