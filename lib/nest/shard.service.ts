import { Inject, Injectable } from '@nestjs/common';
import type { Cluster, Session, ShardInfo, ShardState } from '../gateway/index.js';
import type { GatewayCommand } from './cluster.service.js';
import { GATEWAY_CLUSTER } from './gateway.constants.js';
import type { ShardView } from './interfaces/shard-view.interface.js';

/** One shard at a time: its state, latency and session, and commands sent on it. */
@Injectable()
export class ShardService {
  constructor(@Inject(GATEWAY_CLUSTER) private readonly cluster: Cluster) {}

  /** The shard ids this process runs, ascending. Known once the cluster is up. */
  get ids(): number[] {
    return this.cluster.shardIds;
  }

  /**
   * A live view of shard `id`.
   * @throws UnknownShardError when this process does not run shard `id`.
   */
  shard(id: number): ShardView {
    const cluster = this.cluster;
    cluster.shard(id);
    return {
      id,
      get state(): ShardState {
        return cluster.shard(id).state;
      },
      get latency() {
        return cluster.shard(id).latency;
      },
      get session(): Session | null {
        return cluster.shard(id).session;
      },
      info: (): ShardInfo => cluster.shard(id).info(),
      send: (payload: GatewayCommand) => cluster.command(id, payload),
    };
  }

  /** Sends a command on shard `id`. See `ClusterService.command`. */
  send(id: number, payload: GatewayCommand): Promise<void> {
    return this.cluster.command(id, payload);
  }
}
