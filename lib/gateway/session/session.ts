/**
 * What a shard needs to RESUME (GW-RS-1, GW-RS-2): the session id and resume URL from READY
 * and the last sequence received.
 */
export interface Session {
  /** `session_id` from READY. */
  readonly id: string;
  /** Last non-null `s` received (GW-GT-5). */
  readonly sequence: number;
  /** `resume_gateway_url` from READY, without path or query (GW-URL-4). */
  readonly resumeUrl: string;
}

/**
 * Keeps sessions across restarts, keyed by shard id and shard count: a session stored for
 * another shard count is never resumed. All methods are async so a store shared between
 * processes (Redis, ...) can implement it.
 */
export interface SessionStore {
  /** The session stored for this shard, or `null`. */
  load(shardId: number, shardCount: number): Promise<Session | null>;
  /** Stores (replaces) the session of this shard. */
  save(shardId: number, shardCount: number, session: Session): Promise<void>;
  /** Forgets the session of this shard, if any. */
  delete(shardId: number, shardCount: number): Promise<void>;
}
