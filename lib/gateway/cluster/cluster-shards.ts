import { parse as parsePath, join as joinPath } from 'node:path';
import { shardOptionsFor, type ClusterConfig } from '../config/index.js';
import { describeError, UnknownShardError } from '../errors/errors.js';
import type { EventTypeFlags } from '../events/event-type-flags.js';
import type { GatewayEventListener } from '../events/gateway-event.js';
import type { GatewayLogger } from '../logger.js';
import type { Session } from '../session/session.js';
import { Shard, type ShardDeps } from '../shard/shard.js';
import { composeObservers, type ShardObserver } from '../shard/shard-observer.js';
import { shardIdForGuild } from './shard-routing.js';

/** A gateway payload to send: opcode and data (Discord docs: Gateway Events, Send Events). */
export interface CommandPayload {
  readonly op: number;
  readonly d: unknown;
}

/** The shards a start creates. */
export interface ShardsPlan {
  /** Their ids, ascending. */
  readonly ids: readonly number[];
  readonly shardCount: number;
  /** The stored session of each (same index): it RESUMEs; or null: it IDENTIFYs. */
  readonly sessions: readonly (Session | null)[];
  readonly gatewayUrl: string;
  /** What each decodes at first. */
  readonly eventTypes: EventTypeFlags;
}

/**
 * The shards a cluster runs, by id, and the bot's shard count: which shard a command goes to
 * (by id, or by guild: `(guild_id >> 22) % shardCount`, Discord docs: Gateway, Sharding), and what is done to all of
 * them at once (create, connect, set the event types, close).
 */
export class ClusterShards {
  private readonly byId = new Map<number, Shard>();
  private idList: number[] = [];
  private observers: readonly ShardObserver[] = [];

  /** @param count total shards of the bot; 0 while unknown */
  constructor(public count: number) {}

  /** Ids of the shards this cluster runs, ascending; empty until {@link create}. */
  get ids(): number[] {
    return this.idList;
  }

  /** Whether {@link create} has run. */
  get created(): boolean {
    return this.byId.size > 0;
  }

  /** The shards, in id order. */
  values(): IterableIterator<Shard> {
    return this.byId.values();
  }

  /** @throws UnknownShardError when this cluster does not run shard `id`. */
  get(id: number): Shard {
    const shard = this.byId.get(id);
    if (shard === undefined) throw new UnknownShardError(id, this.idList);
    return shard;
  }

  /** @throws UnknownShardError while the count is unknown; TypeError for a non-snowflake. */
  idForGuild(guildId: string): number {
    if (this.count === 0) throw new UnknownShardError(-1, this.idList);
    return shardIdForGuild(guildId, this.count);
  }

  /** Attaches `observer` to every shard, now and created later; returns the detach function. */
  addObserver(observer: ShardObserver): () => void {
    this.observers = [...this.observers, observer];
    this.applyObservers();
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      this.observers = this.observers.filter((o) => o !== observer);
      this.applyObservers();
    };
  }

  /** Sets what every shard decodes. */
  setEventTypes(flags: EventTypeFlags): void {
    for (const shard of this.byId.values()) shard.eventTypes = flags;
  }

  /**
   * Creates the shards of `plan`, each with the cluster's options for its id and `listener` on
   * its events; when several record, each to its own file ({@link recordPathFor}).
   * @throws ConfigError from a shard's options
   */
  create(
    config: ClusterConfig,
    plan: ShardsPlan,
    deps: ShardDeps,
    listener: GatewayEventListener,
  ): Shard[] {
    const shards = plan.ids.map((id, index) => {
      const options = shardOptionsFor(config, id, plan.shardCount, plan.sessions[index]);
      return new Shard(
        {
          ...options,
          gatewayUrl: plan.gatewayUrl,
          eventTypes: plan.eventTypes,
          recordTo:
            options.recordTo === undefined
              ? undefined
              : recordPathFor(options.recordTo, id, plan.ids.length),
        },
        deps,
      );
    });
    for (const shard of shards) {
      this.byId.set(shard.id, shard);
      shard.addListener(listener);
    }
    this.idList = [...plan.ids];
    if (this.observers.length > 0) this.applyObservers();
    return shards;
  }

  private applyObservers(): void {
    const observer = composeObservers(this.observers);
    for (const shard of this.byId.values()) shard.observe(observer);
  }

  /**
   * Connects every shard; resolves when all are Active. A shard that fails to start is logged
   * (unless `stopped()`: closed by the cluster's stop mid-start, no failure worth an error line).
   * @throws (rejects) the first shard's failure
   */
  async connectAll(logger: GatewayLogger, stopped: () => boolean): Promise<void> {
    await Promise.all(
      this.idList.map((id) =>
        this.get(id)
          .connect()
          .catch((error: unknown) => {
            if (!stopped()) logger.error(`Shard ${id} failed to start: ${describeError(error)}`);
            throw error;
          }),
      ),
    );
  }

  /** Closes every shard with `code`; returns the sessions they kept by shard id (none unless `keepSessions`). */
  async closeAll(code: number, keepSessions: boolean): Promise<Map<number, Session>> {
    const sessions = new Map<number, Session>();
    await Promise.all(
      this.idList.map(async (id) => {
        const session = await this.get(id).close(code);
        if (keepSessions && session !== null) sessions.set(id, session);
      }),
    );
    return sessions;
  }
}

/** One recording file per shard when several shards record: `<name>.shard-<id><ext>`. */
export function recordPathFor(path: string, shardId: number, shards: number): string {
  if (shards === 1) return path;
  const { dir, name, ext } = parsePath(path);
  return joinPath(dir, `${name}.shard-${shardId}${ext}`);
}
