import type { Redis } from 'ioredis';

/**
 * One Lua script run through ioredis's `defineCommand`, which sends EVALSHA and falls back to
 * EVAL when the server does not know the script (after a Redis restart, for example). The
 * command is defined once per client under a name of this library's own
 * (`nestjsDiscordGateway_<name>`); keys are passed per call, so ioredis's `keyPrefix` applies.
 */
export class RedisScript {
  private readonly command: string;

  constructor(
    name: string,
    private readonly lua: string,
  ) {
    this.command = `nestjsDiscordGateway_${name}`;
  }

  run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const commands = redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    if (typeof commands[this.command] !== 'function') {
      redis.defineCommand(this.command, { lua: this.lua });
    }
    return commands[this.command](keys.length, ...keys, ...args);
  }
}

/** Redis's own clock in ms, from `TIME` (replicated as effects since Redis 5, always since 7). */
const NOW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/**
 * One IDENTIFY grant, atomically: the max_concurrency check, the budget (floor included), a
 * FIFO line of processes per bucket, and the bucket's window.
 *
 * KEYS: max-concurrency, state, bucket, line, leases, seq, budget.
 * ARGV: max_concurrency, window + margin (ms), floor, member (this process), lease (ms).
 * Replies: `{'no-state'}`, `{'mc-mismatch', stored}`, `{'no-budget'}`,
 * `{'exhausted', remaining, resetInMs}`, `{'wait', bucketTtlMs, rank, lineLength}`,
 * `{'granted', remaining, othersWaiting}`.
 */
export const GRANT_SCRIPT = new RedisScript(
  'identifyGrant',
  `${NOW}
local mc = redis.call('GET', KEYS[1])
if not mc or redis.call('EXISTS', KEYS[2]) == 0 then return {'no-state'} end
if mc ~= ARGV[1] then return {'mc-mismatch', tonumber(mc)} end
local remaining = tonumber(redis.call('HGET', KEYS[7], 'remaining'))
if not remaining then return {'no-budget'} end
if remaining <= tonumber(ARGV[3]) then
  return {'exhausted', remaining, tonumber(redis.call('HGET', KEYS[7], 'resetAt')) - now}
end
local member = ARGV[4]
redis.call('HSET', KEYS[5], member, string.format('%.0f', now + tonumber(ARGV[5])))
if not redis.call('ZSCORE', KEYS[4], member) then
  redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[6]), member)
end
-- A process that stopped renewing its place (it crashed) leaves the line.
while true do
  local head = redis.call('ZRANGE', KEYS[4], 0, 0)[1]
  if not head or head == member then break end
  local lease = tonumber(redis.call('HGET', KEYS[5], head))
  if lease and lease >= now then break end
  redis.call('ZREM', KEYS[4], head)
  redis.call('HDEL', KEYS[5], head)
end
local rank = redis.call('ZRANK', KEYS[4], member)
local length = redis.call('ZCARD', KEYS[4])
local ttl = redis.call('PTTL', KEYS[3])
if ttl == -1 then ttl = tonumber(ARGV[2]) end
if rank > 0 or ttl > 0 then return {'wait', ttl, rank, length} end
redis.call('SET', KEYS[3], member, 'PX', ARGV[2])
redis.call('HINCRBY', KEYS[7], 'remaining', -1)
redis.call('HINCRBY', KEYS[7], 'granted', 1)
redis.call('ZREM', KEYS[4], member)
redis.call('HDEL', KEYS[5], member)
return {'granted', remaining - 1, length - 1}
`,
);

/**
 * Starts a granted bucket's window again when its IDENTIFY has left the process: a process that
 * stalled between the grant and the send (a busy event loop) must not shorten the window that
 * Discord sees. Sets the key again when it expired meanwhile.
 *
 * KEYS: bucket. ARGV: member, window + margin (ms).
 * Replies: 1 (window restarted), 2 (it had expired: set again), 0 (another process holds it).
 */
export const CONFIRM_SCRIPT = new RedisScript(
  'identifyConfirm',
  `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
`,
);

/**
 * Marks the identify state of one shard count as present. When it was absent (first start, or
 * Redis lost its data), first closes every bucket for one window + margin: an IDENTIFY granted
 * through the lost state may have reached Discord moments ago. Stores max_concurrency when no
 * process did.
 *
 * KEYS: max-concurrency, state, bucket 0 .. bucket m-1. ARGV: max_concurrency, window + margin (ms).
 * Replies: `{'present'}`, `{'fenced'}`, `{'mc-mismatch', stored}`.
 */
export const FENCE_SCRIPT = new RedisScript(
  'identifyFence',
  `
local mc = redis.call('GET', KEYS[1])
if mc and mc ~= ARGV[1] then return {'mc-mismatch', tonumber(mc)} end
if mc and redis.call('EXISTS', KEYS[2]) == 1 then return {'present'} end
for i = 3, #KEYS do redis.call('SET', KEYS[i], 'fence', 'PX', ARGV[2], 'NX') end
redis.call('SET', KEYS[1], ARGV[1], 'NX')
redis.call('SET', KEYS[2], '1')
return {'fenced'}
`,
);

/**
 * Stores the budget read from GET /gateway/bot unless a process stored one meanwhile; it
 * expires at the reset, so the next grant after it reads the new period's budget.
 *
 * KEYS: budget. ARGV: total, remaining, reset_after (ms, at least 1), max_concurrency.
 * Reply: 1 when stored, 0 when one was there.
 */
export const BUDGET_SCRIPT = new RedisScript(
  'identifyBudget',
  `${NOW}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local resetAfter = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'remaining', ARGV[2],
  'resetAt', string.format('%.0f', now + resetAfter), 'readAt', string.format('%.0f', now), 'granted', 0,
  'maxConcurrency', ARGV[4])
redis.call('PEXPIRE', KEYS[1], resetAfter)
return 1
`,
);

/**
 * The budget as stored: `{total, remaining, resetInMs, granted, maxConcurrency}` (the last as
 * Discord reported it), or `{}` when none is. KEYS: budget.
 */
export const READ_BUDGET_SCRIPT = new RedisScript(
  'identifyReadBudget',
  `${NOW}
local b = redis.call('HMGET', KEYS[1], 'total', 'remaining', 'resetAt', 'granted', 'maxConcurrency')
if not b[2] then return {} end
return {tonumber(b[1]), tonumber(b[2]), tonumber(b[3]) - now, tonumber(b[4]), tonumber(b[5])}
`,
);

/**
 * Gives back a grant no IDENTIFY used (its waiter left while the grant was on its way). The
 * bucket's window stays closed: that errs on the safe side.
 * KEYS: budget.
 */
export const REFUND_SCRIPT = new RedisScript(
  'identifyRefund',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'remaining', 1)
redis.call('HINCRBY', KEYS[1], 'granted', -1)
return 1
`,
);

/** Deletes a key only while it still holds `ARGV[1]` (a lock this process took). KEYS: the key. */
export const RELEASE_SCRIPT = new RedisScript(
  'release',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);

/** Leaves a bucket's line. KEYS: line, leases. ARGV: member. */
export const LEAVE_SCRIPT = new RedisScript(
  'identifyLeave',
  `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`,
);
