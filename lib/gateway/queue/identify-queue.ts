/**
 * Paces IDENTIFY across shards (GW-RL-2, GW-SH-4, GW-GT-13): one IDENTIFY per bucket
 * (`shard_id % max_concurrency`) per 5 s window, buckets in parallel, FIFO within a bucket.
 * RESUME never goes through the queue. Async so a queue shared between processes can
 * implement it.
 */
export interface IdentifyQueue {
  /**
   * Resolves when shard `shardId` may send IDENTIFY now. Rejects with `AbortedError` when
   * `signal` aborts first (the shard leaves the queue), and with `IdentifyBudgetError` when
   * the daily budget is spent and the policy is `'fail'`.
   */
  enqueue(shardId: number, signal?: AbortSignal): Promise<void>;
  /**
   * Called by the Cluster on `up()`, before any enqueue and before its budget check, with the
   * bot's shard count: a queue shared between processes keeps its state per shard count and
   * may check its settings against the other processes' here. Rejecting fails `up()`.
   */
  prepare?(shardCount: number): Promise<void>;
}
