import { EventType } from '../events/event-type.js';
import type { GatewayEvent, ShardGuildsReadyData } from '../events/gateway-event.js';
import type { GatewayLogger } from '../logger.js';
import { ShardState } from '../shard/shard-state.js';

/**
 * When a cluster is ready: CLUSTER_READY the first time every shard is Active at once, then
 * CLUSTER_GUILDS_READY once every shard also reported its guilds (SHARD_GUILDS_READY; a resumed
 * shard has none to wait for). Each is emitted once; a shard that drops later does not undo it.
 */
export class ClusterReadiness {
  /** SHARD_GUILDS_READY data by shard; `null` for a resumed shard. */
  private readonly guilds = new Map<number, ShardGuildsReadyData | null>();
  private readyEmitted = false;
  private guildsReadyEmitted = false;

  /**
   * @param router delivers the cluster events to the cluster's listeners
   * @param onReady called right after CLUSTER_READY was delivered
   */
  constructor(
    private readonly router: { deliver(event: GatewayEvent): void },
    private readonly onReady: () => void,
    private readonly logger: GatewayLogger,
  ) {}

  /** SHARD_GUILDS_READY of shard `shardId`, before it is delivered. */
  onShardGuildsReady(shardId: number, data: ShardGuildsReadyData): void {
    this.guilds.set(shardId, data);
  }

  /** SHARD_RESUMED of shard `shardId`, before it is delivered. */
  onShardResumed(shardId: number): void {
    // A resumed shard's guilds arrived in the run that stored the session: nothing to wait for.
    if (!this.guilds.has(shardId)) this.guilds.set(shardId, null);
  }

  /** After a shard became Active: emits CLUSTER_READY when every one of `shards` is. */
  checkReady(shards: Iterable<{ readonly state: ShardState }>, ids: readonly number[]): void {
    if (this.readyEmitted) return;
    for (const shard of shards) if (shard.state !== ShardState.Active) return;
    this.readyEmitted = true;
    this.logger.log(`Cluster ready: ${ids.length} shard(s) Active`);
    this.emit(ids, EventType.ClusterReady, { shardIds: [...ids] });
    this.onReady();
    this.checkGuildsReady(ids);
  }

  /** Emits CLUSTER_GUILDS_READY once CLUSTER_READY is out and every shard of `ids` reported its guilds. */
  checkGuildsReady(ids: readonly number[]): void {
    if (!this.readyEmitted || this.guildsReadyEmitted) return;
    if (ids.some((id) => !this.guilds.has(id))) return;
    this.guildsReadyEmitted = true;
    let guildCount = 0;
    const unavailable: string[] = [];
    for (const data of this.guilds.values()) {
      if (data === null) continue;
      guildCount += data.guildCount;
      unavailable.push(...data.unavailable);
    }
    this.emit(ids, EventType.ClusterGuildsReady, { guildCount, unavailable });
  }

  /** Cluster events carry the first shard's id and no sequence. */
  private emit(ids: readonly number[], type: EventType, data: unknown): void {
    this.router.deliver({ shardId: ids[0] ?? 0, type, data, sequence: null } as GatewayEvent);
  }
}
