import type { Redis } from 'ioredis';
import type { GatewayEvent } from '../../../lib/gateway/index.js';

/** Where and under which names a consumer records what it handled. */
export interface RecordTarget {
  readonly keyPrefix: string;
  readonly group: string;
  readonly name: string;
  /** Each call waits this long (async) before recording. */
  readonly handlerDelayMs: number;
}

/** `<prefix>:test:<what>:<group>` */
export const recordKey = (target: { keyPrefix: string; group: string }, what: string): string =>
  `${target.keyPrefix}:test:${what}:${target.group}`;

/**
 * A handler's side effects, idempotent by shard and entry id: every call is appended to `calls`; the
 * first handling of an entry id sets it in `recorded` (HSETNX) and, in the same script, appends
 * the content to the guild's `order` list.
 */
export async function recordEvent(
  redis: Redis,
  target: RecordTarget,
  event: GatewayEvent,
): Promise<void> {
  if (event.type !== 'MESSAGE_CREATE') return;
  await new Promise((resolve) => setTimeout(resolve, target.handlerDelayMs));
  // Entry ids are per shard stream.
  const id = `${event.shardId}:${event.entryId as string}`;
  const data = event.data as { guild_id?: string; content: string };
  await redis.rpush(recordKey(target, 'calls'), id);
  // One script, so that a consumer killed mid-call cannot leave an entry recorded but missing
  // from its guild's order.
  await redis.eval(
    `if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then redis.call('RPUSH', KEYS[2], ARGV[3]) end`,
    2,
    recordKey(target, 'recorded'),
    recordKey(target, `order:${data.guild_id}`),
    id,
    target.name,
    data.content,
  );
}
