import type { Session, ShardInfo, ShardState } from '../../gateway/index.js';
import type { GatewayCommand } from '../cluster.service.js';

/** A live, read-mostly view of one shard: every read reflects the shard's current state. */
export interface ShardView {
  readonly id: number;
  readonly state: ShardState;
  /** Heartbeat round trips in ms: the average (null before the first ACK) and recent samples. */
  readonly latency: { readonly average: number | null; readonly recent: readonly number[] };
  /** The session to resume, or `null` before READY and after the session ended. */
  readonly session: Session | null;
  /** Counters and state in one snapshot. */
  info(): ShardInfo;
  /** Sends a command on this shard (rate limited, in order). See `ClusterService.command`. */
  send(payload: GatewayCommand): Promise<void>;
}
