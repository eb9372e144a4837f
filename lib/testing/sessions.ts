import { createHash, randomBytes } from 'node:crypto';

/** One sequenced dispatch as kept in a session's replay buffer. */
export interface BufferedDispatch {
  readonly s: number;
  /** `null`: a malformed dispatch without a name (`sendMalformed('dispatch-without-t')`). */
  readonly t: string | null;
  readonly d: unknown;
}

/** Where a session delivers live dispatches: its current connection. */
export interface SessionLink {
  /** True once READY or RESUMED went out on this connection. */
  readonly live: boolean;
  deliver(entry: BufferedDispatch): void;
}

/** Dispatches that start or resume a session; they take a sequence but are never replayed. */
const SESSION_EVENTS = new Set<string | null>(['READY', 'RESUMED']);

/**
 * A bounded ring of the latest dispatches of one session. Once it is full, the oldest are
 * dropped, and a RESUME from before the oldest kept one can no longer be served exactly.
 */
export class ReplayBuffer {
  private readonly ring: (BufferedDispatch | undefined)[];
  private start = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array(Math.max(1, capacity));
  }

  push(entry: BufferedDispatch): void {
    const cap = this.ring.length;
    if (this.size < cap) {
      this.ring[(this.start + this.size) % cap] = entry;
      this.size++;
    } else {
      this.ring[this.start] = entry;
      this.start = (this.start + 1) % cap;
    }
  }

  /** Sequence of the oldest kept entry, or null when empty. */
  get oldest(): number | null {
    return this.size === 0 ? null : this.ring[this.start]!.s;
  }

  /**
   * The replayable dispatches with `s > seq`, in order (READY and RESUMED left out), or null
   * when some of them were already dropped.
   */
  since(seq: number): BufferedDispatch[] | null {
    const oldest = this.oldest;
    if (oldest !== null && seq < oldest - 1) return null;
    const out: BufferedDispatch[] = [];
    for (let i = 0; i < this.size; i++) {
      const entry = this.ring[(this.start + i) % this.ring.length]!;
      if (entry.s > seq && !SESSION_EVENTS.has(entry.t)) out.push(entry);
    }
    return out;
  }

  /** The last `count` entries, oldest first (for the state file). */
  tail(count: number): BufferedDispatch[] {
    const n = Math.min(count, this.size);
    const out: BufferedDispatch[] = [];
    for (let i = this.size - n; i < this.size; i++)
      out.push(this.ring[(this.start + i) % this.ring.length]!);
    return out;
  }
}

/** Hash under which a session remembers its token, so the token itself is never kept. */
export const tokenHash = (token: string): string =>
  createHash('sha256').update(token).digest('hex');

/** A gateway session: identity, sequence and replay buffer; it outlives its connections. */
export class FakeSession {
  readonly id: string;
  /** Last sequence number assigned. */
  seq = 0;
  /** READY went out, so the session takes dispatches. */
  started = false;
  invalidated = false;
  link: SessionLink | null = null;
  /** Clock time it lost its connection, or null while attached. */
  detachedAt: number | null = null;
  readonly buffer: ReplayBuffer;

  constructor(
    readonly shardId: number,
    readonly shardCount: number,
    readonly intents: number,
    readonly tokenHash: string,
    bufferSize: number,
    id: string = randomBytes(16).toString('hex'),
  ) {
    this.id = id;
    this.buffer = new ReplayBuffer(bufferSize);
  }

  /** True while it can take dispatches (started, not invalidated). */
  get active(): boolean {
    return this.started && !this.invalidated;
  }

  /**
   * Sequences and buffers a dispatch, and delivers it at once when the session's connection
   * is live; otherwise it waits in the buffer for a RESUME.
   */
  append(t: string | null, d: unknown): BufferedDispatch {
    const entry: BufferedDispatch = { s: ++this.seq, t, d };
    this.buffer.push(entry);
    if (this.link?.live) this.link.deliver(entry);
    return entry;
  }
}

/** Every known session by id; invalidated and expired sessions are dropped. */
export class SessionRegistry {
  private readonly sessions = new Map<string, FakeSession>();

  constructor(
    /** How long a detached session stays resumable, ms. */
    private readonly timeoutMs: number,
  ) {}

  add(session: FakeSession): void {
    this.sessions.set(session.id, session);
  }

  /** The session if it exists and is still resumable at `now`. */
  get(id: string, now: number): FakeSession | undefined {
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (this.expired(session, now)) {
      this.invalidate(session);
      return undefined;
    }
    return session;
  }

  invalidate(session: FakeSession): void {
    session.invalidated = true;
    session.link = null;
    this.sessions.delete(session.id);
  }

  /** Active sessions (started, not invalidated, not expired), dropping the expired ones. */
  active(now: number): FakeSession[] {
    const out: FakeSession[] = [];
    for (const session of this.sessions.values()) {
      if (this.expired(session, now)) this.invalidate(session);
      else if (session.active) out.push(session);
    }
    return out;
  }

  /** Every session kept, including not yet started ones. */
  all(): FakeSession[] {
    return [...this.sessions.values()];
  }

  private expired(session: FakeSession, now: number): boolean {
    return session.detachedAt !== null && now - session.detachedAt > this.timeoutMs;
  }
}
