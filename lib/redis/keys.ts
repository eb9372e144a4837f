import { createHash } from 'node:crypto';
import { toToken } from '../gateway/config/schema.js';
import type { Token } from '../gateway/config/token.js';
import { ConfigError, type ConfigIssue } from '../gateway/errors/errors.js';

/** The key prefix used when none is given. */
export const DEFAULT_KEY_PREFIX = 'discord-gateway';

/** How a Redis-backed part names its bot: the token (the id is derived from it) or the id itself. */
export interface BotIdentity {
  /**
   * The bot token, with or without a `Bot ` prefix. Only its first segment is read: Discord's
   * tokens start with the bot's user id in base64. Give `botId` instead when the token is not
   * at hand or not of that form.
   */
  readonly token?: string | Token;
  /** The bot's id (any string of letters, digits, `-` and `_`); wins over `token`. */
  readonly botId?: string;
  /** First part of every key. Default `'discord-gateway'`. */
  readonly keyPrefix?: string;
}

const SNOWFLAKE = /^\d{1,20}$/;
const BOT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const KEY_PREFIX = /^[^\s{}]{1,100}$/;

/**
 * The bot id a token belongs to: its first segment decoded from base64 when that is a
 * snowflake (Discord's token format), else the first 16 hex digits of the segment's SHA-256,
 * so that a token of another form (a test gateway's) never appears in a key.
 */
export function botIdFromToken(token: string | Token): string {
  const segment = toToken(token).reveal().split('.', 1)[0] ?? '';
  const decoded = Buffer.from(segment, 'base64').toString('latin1');
  if (segment.length > 0 && SNOWFLAKE.test(decoded)) return decoded;
  return `h${createHash('sha256').update(segment).digest('hex').slice(0, 16)}`;
}

/**
 * Names every Redis key of one bot. The layout, for prefix `p`, bot `b`, shard count `n` and
 * max_concurrency `m`:
 *
 * | key | type | what |
 * | --- | --- | --- |
 * | `p:{b}:identify:max-concurrency` | string | the max_concurrency every process of the bot paces with |
 * | `p:{b}:identify:budget` | hash | daily session start budget: `total`, `remaining`, `resetAt` (Redis ms), `granted`, `readAt`; expires at `resetAt` |
 * | `p:{b}:identify:budget-refresh` | string | lock held by the process reading GET /gateway/bot |
 * | `p:{b}:shards:n:identify:m:state` | string | present while Redis holds this group's identify state (absent: first start, or Redis lost its data) |
 * | `p:{b}:shards:n:identify:m:bucket:k` | string | bucket `k`'s window: set `NX PX` at each grant, left to expire |
 * | `p:{b}:shards:n:identify:m:bucket:k:line` | zset | processes waiting for bucket `k`, in arrival order |
 * | `p:{b}:shards:n:identify:m:bucket:k:leases` | hash | when each waiting process's place lapses (Redis ms) |
 * | `p:{b}:shards:n:identify:m:bucket:k:seq` | string | arrival counter of the line |
 * | `p:{b}:shards:n:session:i` | string | shard `i`'s stored session (JSON), with a TTL |
 * | `p:{b}:shards:n:events:i` | stream | shard `i`'s dispatches, entry ids `<generation>-<s>` |
 * | `p:{b}:shards:n:events:i:generation` | string | shard `i`'s last session generation (`INCR`) |
 * | `p:{b}:shards:n:processes` | zset | gateway processes that reported, by name |
 * | `p:{b}:shards:n:process:name` | string | a gateway process's latest report (JSON), with a TTL |
 * | `p:{b}:shards:n:process:name:commands` | stream | commands for the shards of that process |
 * | `p:{b}:shards:n:group:g:consumers` | zset | consumers of group `g`, scored by when their registration lapses (Redis ms) |
 * | `p:{b}:shards:n:group:g:lease:i` | string | the consumer of group `g` reading shard `i`'s stream (`SET NX PX`, renewed) |
 * | `p:{b}:shards:n:group:g:lease:i:handover` | string | the consumer that last handed shard `i` over; the next holder claims its pending entries |
 * | `p:{b}:replies:name` | stream | answers to the commands consumer `name` sent |
 *
 * `{b}` is a Redis Cluster hash tag: every key of one bot lands in one slot, so one script can
 * touch any of them. Bucket and session keys include the shard count, so processes running
 * another shard count (a resharding) never share them; the budget and max_concurrency are the
 * bot's, whatever the count, as at Discord.
 */
export class RedisKeys {
  /** `prefix:{botId}`: the start of every key of this bot. */
  readonly bot: string;

  /** @throws ConfigError when the prefix or bot id is unusable, listing both problems. */
  constructor(
    readonly prefix: string,
    readonly botId: string,
  ) {
    const issues = RedisKeys.issues(prefix, botId);
    if (issues.length > 0) throw new ConfigError(issues);
    this.bot = `${prefix}:{${botId}}`;
  }

  /** What is wrong with a key prefix and a bot id (skipped when `undefined`). */
  static issues(prefix: string, botId: string | undefined): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    if (!KEY_PREFIX.test(prefix)) {
      issues.push({
        path: 'keyPrefix',
        rule: 'must be 1 to 100 characters without spaces or braces',
      });
    }
    if (botId !== undefined && !BOT_ID.test(botId)) {
      issues.push({ path: 'botId', rule: 'must be 1 to 64 letters, digits, "-" or "_"' });
    }
    return issues;
  }

  /**
   * Keys for `identity`: `botId` when given, else derived from `token`.
   * @throws ConfigError when neither is given, or the prefix or id is unusable.
   */
  static of(identity: BotIdentity): RedisKeys {
    const prefix = identity.keyPrefix ?? DEFAULT_KEY_PREFIX;
    if (identity.botId !== undefined) return new RedisKeys(prefix, identity.botId);
    if (identity.token === undefined) {
      throw new ConfigError([
        { path: 'token', rule: 'is required when botId is not given' },
        ...RedisKeys.issues(prefix, undefined),
      ]);
    }
    return new RedisKeys(prefix, botIdFromToken(identity.token));
  }

  /**
   * {@link of} for a constructor that validates its other options into `issues` first: the
   * keys, or a ConfigError listing every issue, the keys' own included.
   * @throws ConfigError when `issues` is not empty or the keys cannot be made.
   */
  static orIssues(identity: BotIdentity, issues: ConfigIssue[]): RedisKeys {
    let keys: RedisKeys | undefined;
    try {
      keys = RedisKeys.of(identity);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
    }
    if (issues.length > 0 || keys === undefined) throw new ConfigError(issues);
    return keys;
  }

  get maxConcurrency(): string {
    return `${this.bot}:identify:max-concurrency`;
  }

  get budget(): string {
    return `${this.bot}:identify:budget`;
  }

  get budgetRefresh(): string {
    return `${this.bot}:identify:budget-refresh`;
  }

  /** Start of the keys of one shard count. */
  shards(shardCount: number): string {
    return `${this.bot}:shards:${shardCount}`;
  }

  /** Start of the identify keys of one shard count and max_concurrency. */
  identify(shardCount: number, maxConcurrency: number): string {
    return `${this.shards(shardCount)}:identify:${maxConcurrency}`;
  }

  identifyState(shardCount: number, maxConcurrency: number): string {
    return `${this.identify(shardCount, maxConcurrency)}:state`;
  }

  bucket(shardCount: number, maxConcurrency: number, bucket: number): string {
    return `${this.identify(shardCount, maxConcurrency)}:bucket:${bucket}`;
  }

  session(shardCount: number, shardId: number): string {
    return `${this.shards(shardCount)}:session:${shardId}`;
  }

  events(shardCount: number, shardId: number): string {
    return `${this.shards(shardCount)}:events:${shardId}`;
  }

  generation(shardCount: number, shardId: number): string {
    return `${this.events(shardCount, shardId)}:generation`;
  }

  processes(shardCount: number): string {
    return `${this.shards(shardCount)}:processes`;
  }

  process(shardCount: number, name: string): string {
    return `${this.shards(shardCount)}:process:${name}`;
  }

  commands(shardCount: number, name: string): string {
    return `${this.process(shardCount, name)}:commands`;
  }

  consumers(shardCount: number, group: string): string {
    return `${this.shards(shardCount)}:group:${group}:consumers`;
  }

  lease(shardCount: number, group: string, shardId: number): string {
    return `${this.shards(shardCount)}:group:${group}:lease:${shardId}`;
  }

  handover(shardCount: number, group: string, shardId: number): string {
    return `${this.lease(shardCount, group, shardId)}:handover`;
  }

  replies(name: string): string {
    return `${this.bot}:replies:${name}`;
  }
}
