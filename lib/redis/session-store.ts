import type { Redis } from 'ioredis';
import type { Token } from '../gateway/config/token.js';
import type { ConfigIssue } from '../gateway/errors/errors.js';
import { consoleLogger, type GatewayLogger } from '../gateway/logger.js';
import {
  copySession,
  toSession,
  type Session,
  type SessionStore,
} from '../gateway/session/session.js';
import { RedisKeys } from './keys.js';
import { RedisScript } from './script.js';

/**
 * The default time a stored session is kept, in ms: 2 minutes. Discord documents only that a
 * session stays resumable for "a few minutes" after a close without 1000/1001; 2 minutes is
 * below any reading of that, so a session found in the store is nearly always still resumable.
 * One that Discord dropped all the same costs an op 9 and an IDENTIFY, not an error.
 */
export const DEFAULT_SESSION_TTL_MS = 120_000;

/** The default interval of the periodic save of Active shards' sessions, in ms. */
export const DEFAULT_SESSION_SAVE_INTERVAL_MS = 3_000;

/** Options of {@link RedisSessionStore}. Times in ms. */
export interface RedisSessionStoreOptions {
  /** A connected (or connecting) ioredis client. The store never closes it: it is yours. */
  readonly redis: Redis;
  /** The bot token (only its first segment is read, for the bot's id in the keys); or give `botId`. */
  readonly token?: string | Token;
  /** The bot id in the keys; wins over `token`. */
  readonly botId?: string;
  /** First part of every key. Default `'discord-gateway'`. */
  readonly keyPrefix?: string;
  /** How long a saved session is kept (each save starts it again). Default 120_000; see {@link DEFAULT_SESSION_TTL_MS}. */
  readonly ttlMs?: number;
  /**
   * While a shard is Active, the Cluster saves its session id and sequence this often, so a
   * process killed without a shutdown loses at most this much of its position (the events
   * after it are replayed on resume: at least once). Default 3_000; at least 100.
   */
  readonly saveIntervalMs?: number;
  /** Warns about stored sessions it cannot read. */
  /**
   * Where warnings (Redis lost its data, Redis unreachable, a bad stored value) and debug lines
   * go. Default: the console, warnings and errors only. In a Nest app:
   * `nestGatewayLogger(new Logger('Redis'))`.
   */
  readonly logger?: GatewayLogger;
}

/**
 * Saves only when the stored session is another one, or an older position of the same one: a
 * periodic save that was slow on the way never overwrites the final save of a shutdown.
 * KEYS: session. ARGV: JSON, id, sequence, ttl (ms).
 */
const SAVE_SCRIPT = new RedisScript(
  'sessionSave',
  `
local stored = redis.call('GET', KEYS[1])
if stored then
  local ok, old = pcall(cjson.decode, stored)
  if ok and type(old) == 'table' and old.id == ARGV[2] and tonumber(old.sequence) and tonumber(old.sequence) > tonumber(ARGV[3]) then
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
return 1
`,
);

/**
 * A {@link SessionStore} in Redis, shared by every process of a bot:
 * a shard that moves to another process or machine RESUMEs there.
 *
 * - One key per shard and shard count (`<prefix>:{<bot>}:shards:<count>:session:<id>`), a JSON
 *   string with a TTL (`ttlMs`); a session of another shard count is never returned.
 * - `saveIntervalMs` asks the Cluster to save each Active shard's session periodically, and
 *   to keep it stored after it resumed: a process killed with SIGKILL is resumed by the next
 *   one from a sequence at most that old. Discord replays what followed it, so a crash-resume
 *   delivers those events again (at least once).
 * - A stored value that is not a session is logged (warn) and ignored.
 */
export class RedisSessionStore implements SessionStore {
  readonly keys: RedisKeys;
  readonly ttlMs: number;
  readonly saveIntervalMs: number;
  private readonly redis: Redis;
  private readonly logger: GatewayLogger;

  /** @throws ConfigError listing every invalid option. */
  constructor(options: RedisSessionStoreOptions) {
    const issues: ConfigIssue[] = [];
    const redis = options.redis as Partial<Redis> | undefined;
    if (typeof redis?.defineCommand !== 'function') {
      issues.push({ path: 'redis', rule: 'must be an ioredis client' });
    }
    if (
      options.ttlMs !== undefined &&
      !(Number.isSafeInteger(options.ttlMs) && options.ttlMs >= 1_000)
    ) {
      issues.push({ path: 'ttlMs', rule: 'must be an integer >= 1000' });
    }
    if (
      options.saveIntervalMs !== undefined &&
      !(Number.isSafeInteger(options.saveIntervalMs) && options.saveIntervalMs >= 100)
    ) {
      issues.push({ path: 'saveIntervalMs', rule: 'must be an integer >= 100' });
    }
    this.keys = RedisKeys.orIssues(options, issues);
    this.redis = options.redis;
    this.ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
    this.saveIntervalMs = options.saveIntervalMs ?? DEFAULT_SESSION_SAVE_INTERVAL_MS;
    this.logger = options.logger ?? consoleLogger('warn');
  }

  async load(shardId: number, shardCount: number): Promise<Session | null> {
    const key = this.keys.session(shardCount, shardId);
    const text = await this.redis.get(key);
    if (text === null) return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const session = toSession(value);
    if (session !== null) return session;
    this.logger.warn(`Redis key ${key} does not hold a session; shard ${shardId} will identify`);
    return null;
  }

  async save(shardId: number, shardCount: number, session: Session): Promise<void> {
    await SAVE_SCRIPT.run(
      this.redis,
      [this.keys.session(shardCount, shardId)],
      [JSON.stringify(copySession(session)), session.id, session.sequence, this.ttlMs],
    );
  }

  async delete(shardId: number, shardCount: number): Promise<void> {
    await this.redis.del(this.keys.session(shardCount, shardId));
  }
}
