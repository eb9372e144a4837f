/**
 * Hooks into a shard's receive path and handshake, for metrics (`Cluster.observe`). One
 * object serves every shard of a cluster. The shard checks once per message whether an
 * observer is attached, so without one the hot path pays a null check and nothing more; with
 * one, each call must be cheap and must not throw (add to a number, look up a counter).
 */
export interface ShardObserver {
  /** A WebSocket message arrived: `bytes` as received (compressed, under transport compression). */
  frameReceived(bytes: number): void;
  /** A complete gateway payload of `bytes` (after inflating; the frame itself without compression). */
  payloadReceived(bytes: number): void;
  /**
   * A dispatch named `type` with a new sequence: `decoded` is false when the decode filter
   * skipped it (only peeked). Duplicates and dispatches without a name are not reported.
   */
  dispatchReceived(type: string, decoded: boolean): void;
  /** A heartbeat ACK of shard `shardId` arrived `ms` after its heartbeat. */
  heartbeatAcked(shardId: number, ms: number): void;
  /** Shard `shardId` sent IDENTIFY after waiting `queueWaitMs` for the identify queue. */
  identifySent(shardId: number, queueWaitMs: number): void;
}

/** One observer calling each of `observers` in turn (none: `null`, one: itself). */
export function composeObservers(observers: readonly ShardObserver[]): ShardObserver | null {
  if (observers.length <= 1) return observers[0] ?? null;
  const all = [...observers];
  return {
    frameReceived: (bytes) => all.forEach((o) => o.frameReceived(bytes)),
    payloadReceived: (bytes) => all.forEach((o) => o.payloadReceived(bytes)),
    dispatchReceived: (type, decoded) => all.forEach((o) => o.dispatchReceived(type, decoded)),
    heartbeatAcked: (shardId, ms) => all.forEach((o) => o.heartbeatAcked(shardId, ms)),
    identifySent: (shardId, waitMs) => all.forEach((o) => o.identifySent(shardId, waitMs)),
  };
}
