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
 * `value` as a {@link Session} (a copy of its known fields), or `null` when it is not one
 * ({@link sessionProblem}): `id` 1 to 128 printable ASCII characters, `sequence` and
 * `generation` (optional) safe integers >= 0, `resumeUrl` a string of at most 2048 characters.
 */
export function toSession(value: unknown): Session | null {
  return sessionProblem(value) === null ? copySession(value as Session) : null;
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

/**
 * Longest `session_id` accepted, in characters. Discord's are 32 hex digits; the bound keeps a
 * RESUME (token + session id + sequence) far below the gateway's 4096-byte payload limit, so a
 * session from READY, a store or the `session` option can always be resumed.
 */
export const MAX_SESSION_ID_LENGTH = 128;

/** Longest resume URL accepted in a session, in characters. */
export const MAX_RESUME_URL_LENGTH = 2_048;

/**
 * The rule a `session_id` breaks, or `null`: 1 to {@link MAX_SESSION_ID_LENGTH} printable
 * ASCII characters (no spaces or control characters: it is sent back in RESUME and written to
 * logs).
 */
export function sessionIdProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if (value.length > MAX_SESSION_ID_LENGTH)
    return `must be at most ${MAX_SESSION_ID_LENGTH} characters`;
  if (!/^[\x21-\x7e]+$/.test(value)) return 'must be printable ASCII without spaces';
  return null;
}

/**
 * The rule a value breaks as a {@link Session} (its shape and bounds; where the resume URL may
 * point is judged separately), or `null`. Never quotes the value.
 */
export function sessionProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'must be an object';
  const { id, sequence, resumeUrl, generation } = value as Partial<Record<keyof Session, unknown>>;
  const idProblem = sessionIdProblem(id);
  if (idProblem !== null) return `id ${idProblem}`;
  if (!isCount(sequence)) return 'sequence must be an integer >= 0';
  if (typeof resumeUrl !== 'string' || resumeUrl.length > MAX_RESUME_URL_LENGTH)
    return `resumeUrl must be a string of at most ${MAX_RESUME_URL_LENGTH} characters`;
  if (generation !== undefined && !isCount(generation)) return 'generation must be an integer >= 0';
  return null;
}
