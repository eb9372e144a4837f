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
  /**
   * A number that grows with every new session of the shard, when something assigns one (the
   * Redis event streams number their entries `<generation>-<s>`). Stores keep it; sessions
   * stored without it load as before.
   */
  readonly generation?: number;
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
  /**
   * When set (ms), the Cluster also saves each Active shard's session this often and keeps a
   * resumed shard's session stored, so that a process that dies without shutting down is
   * resumed by the next one (the events after the last save are then delivered again). For
   * stores that outlive the process, such as one in Redis. Unset: sessions are saved on
   * `downResumable()` only, and a stored session is used once.
   */
  readonly saveIntervalMs?: number;
}

/**
 * `value` as a {@link Session} (a copy of its known fields), or `null` when it is not one:
 * `id` a non-empty string, `sequence` and `generation` (optional) safe integers >= 0,
 * `resumeUrl` a string.
 */
export function toSession(value: unknown): Session | null {
  const session = value as Partial<Session> | null;
  if (
    typeof session !== 'object' ||
    session === null ||
    typeof session.id !== 'string' ||
    session.id.length === 0 ||
    !isCount(session.sequence) ||
    typeof session.resumeUrl !== 'string' ||
    (session.generation !== undefined && !isCount(session.generation))
  ) {
    return null;
  }
  return copySession(session as Session);
}

/** The fields of a {@link Session} alone (no extra properties), `generation` only when set. */
export function copySession(session: Session): Session {
  const { id, sequence, resumeUrl, generation } = session;
  return generation === undefined
    ? { id, sequence, resumeUrl }
    : { id, sequence, resumeUrl, generation };
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
