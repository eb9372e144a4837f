import { EventEmitter } from 'node:events';

/** Which listener a connection or upgrade came in on: the base URL or the resume URL. */
export type ListenerKind = 'base' | 'resume';

/** One payload the client sent. `d.token` of IDENTIFY/RESUME is replaced by `'[token]'`. */
export interface ReceivedPayload {
  op: number;
  d: unknown;
  /** Clock time (ms) it arrived. */
  at: number;
  /** Encoded size in bytes. */
  bytes: number;
}

/** One payload the server sent. `d` is kept by reference (not copied). */
export interface SentPayload {
  op: number;
  t: string | null;
  s: number | null;
  d: unknown;
  /** Clock time (ms) it was handed to the socket. */
  at: number;
}

/** Everything seen on one WebSocket connection. */
export interface ConnectionRecord {
  /** 1-based, in accept order across both listeners. */
  readonly id: number;
  readonly listener: ListenerKind;
  /** Request path as sent, e.g. `'/'`. */
  readonly path: string;
  /** Query string as sent, without `?` (`'v=10&encoding=json&compress=zlib-stream'`). */
  readonly query: string;
  /** `v` as a number, null when absent, NaN when not a number (then closed with 4012). */
  readonly version: number | null;
  /** `encoding`, defaulting to `'json'` when absent. */
  readonly encoding: string;
  /** `compress`, or null when absent. */
  readonly compression: string | null;
  readonly openedAt: number;
  helloAt: number | null;
  /** How the client authenticated on this connection (last successful one). */
  auth: 'identify' | 'resume' | null;
  shardId: number | null;
  sessionId: string | null;
  /** Capped at `recording.maxPayloadsPerConnection` (oldest dropped); the counts are exact. */
  readonly received: ReceivedPayload[];
  readonly sent: SentPayload[];
  receivedCount: number;
  sentCount: number;
  heartbeats: number;
  acks: number;
  /** Largest number of client payloads seen in any send-limit window (GW-RL-1). */
  maxPayloadsInWindow: number;
  closedAt: number | null;
  /** Who started the close: `'client'`, `'server'`, or `'network'` (no close frame, 1006). */
  closedBy: 'client' | 'server' | 'network' | null;
  /** The close code the client sent (1005 when none), or null if the server closed first. */
  clientCloseCode: number | null;
  /** The close code the server sent, or null if it did not send one. */
  serverCloseCode: number | null;
  closeReason: string;
}

/** The outcome of one IDENTIFY. */
export type IdentifyOutcome = 'accepted' | 'rate-limited' | 'budget-exhausted' | 'rejected';

/** One IDENTIFY (GW-ID-1..5). */
export interface IdentifyRecord {
  connectionId: number;
  shardId: number;
  shardCount: number;
  /** `shard_id % max_concurrency` (GW-SH-4). */
  bucket: number;
  intents: number;
  /** Clock time (ms). */
  at: number;
  outcome: IdentifyOutcome;
  /** Close code when `outcome` is `'rejected'` or `'budget-exhausted'`. */
  closeCode: number | null;
  sessionId: string | null;
}

/** The outcome of one RESUME (GW-RS-1..4). */
export type ResumeOutcome = 'resumed' | 'invalid-session' | 'invalid-seq' | 'rejected';

export interface ResumeRecord {
  connectionId: number;
  listener: ListenerKind;
  sessionId: string;
  seq: number | null;
  at: number;
  outcome: ResumeOutcome;
  /** Dispatches replayed before RESUMED (0 unless resumed). */
  replayed: number;
}

/** Something the client did that Discord punishes or limits. */
export type ViolationKind =
  | 'send-limit' // 4008, GW-RL-1
  | 'payload-too-large' // 4002, GW-ENV-4
  | 'decode-error' // 4002
  | 'unknown-opcode' // 4001
  | 'invalid-payload' // 4001
  | 'not-authenticated' // 4003, GW-ID-2
  | 'already-authenticated' // 4005, GW-ID-1
  | 'authentication-failed' // 4004
  | 'invalid-shard' // 4010
  | 'sharding-required' // 4011
  | 'invalid-api-version' // 4012
  | 'invalid-intents' // 4013
  | 'disallowed-intents' // 4014
  | 'invalid-seq' // 4007
  | 'session-timeout' // 4009, GW-HB-7
  | 'identify-bucket' // op 9, GW-RL-2
  | 'session-budget' // GW-ID-5
  | 'member-request-rate-limit' // RATE_LIMITED, GW-RL-5
  | 'presence-rate-limit' // GW-RL-4
  | 'heartbeat-request-unanswered' // GW-HB-5
  | 'command-wrong-shard'; // guild not routed to this shard (GW-SH-1)

export interface Violation {
  kind: ViolationKind;
  connectionId: number | null;
  shardId: number | null;
  at: number;
  /** Close code the server answered with, or null when it did not close. */
  closeCode: number | null;
  detail: string;
}

/** One server-initiated op 1 (GW-HB-5) and whether the client answered in time. */
export interface HeartbeatRequestRecord {
  connectionId: number;
  sentAt: number;
  deadlineMs: number;
  answeredAt: number | null;
  /** null while pending; true when op 1 came back before the deadline. */
  inTime: boolean | null;
}

/**
 * One WebSocket upgrade attempt, recorded when it arrives. `outcome` is `'accepted'` from the
 * start for an upgrade that is being delayed (`delayedMs > 0`) and turns to `'refused'` if the
 * gateway stops meanwhile.
 */
export interface UpgradeRecord {
  listener: ListenerKind;
  path: string;
  query: string;
  /** Clock time (ms) it arrived. */
  at: number;
  outcome: 'accepted' | 'refused' | 'unsupported';
  /** HTTP status when refused. */
  status: number | null;
  delayedMs: number;
}

/** One HTTP request. The Authorization header is never stored, only whether it was valid. */
export interface HttpRequestRecord {
  method: string;
  /** Path and query, e.g. `'/api/v10/gateway/bot'`. */
  path: string;
  body: unknown;
  userAgent: string | null;
  authorized: boolean;
  status: number;
  at: number;
}

/**
 * Bounds on what the record keeps, so long runs stay in bounded memory. A full list drops its
 * oldest tenth at once, so it holds between 90% and 100% of its bound.
 */
export interface RecordingLimits {
  /** Received and sent payloads kept per connection (each list). Default 10_000. */
  maxPayloadsPerConnection?: number;
  /** Connection records kept (oldest dropped). Default 10_000. */
  maxConnections?: number;
  /** Entries kept in every other list. Default 10_000. */
  maxEntries?: number;
}

/**
 * What the FakeGateway saw, for tests to assert on. Lists are append-only and in time order;
 * each is capped by {@link RecordingLimits} (oldest entries dropped).
 */
export class GatewayRecord {
  readonly connections: ConnectionRecord[] = [];
  readonly identifies: IdentifyRecord[] = [];
  readonly resumes: ResumeRecord[] = [];
  readonly violations: Violation[] = [];
  readonly heartbeatRequests: HeartbeatRequestRecord[] = [];
  readonly upgrades: UpgradeRecord[] = [];
  readonly http: HttpRequestRecord[] = [];

  readonly maxPayloadsPerConnection: number;
  private readonly maxConnections: number;
  private readonly maxEntries: number;
  private readonly changes = new EventEmitter();

  constructor(limits: RecordingLimits = {}) {
    this.maxPayloadsPerConnection = limits.maxPayloadsPerConnection ?? 10_000;
    this.maxConnections = limits.maxConnections ?? 10_000;
    this.maxEntries = limits.maxEntries ?? 10_000;
    this.changes.setMaxListeners(0);
  }

  /** Connections whose last authentication was for `shardId`. */
  connectionsForShard(shardId: number): ConnectionRecord[] {
    return this.connections.filter((c) => c.shardId === shardId);
  }

  /** Violations of one kind. */
  violationsOf(kind: ViolationKind): Violation[] {
    return this.violations.filter((v) => v.kind === kind);
  }

  /** Every dispatch sent on every connection, in order (from the capped lists). */
  dispatchesSent(connectionId?: number): SentPayload[] {
    const out: SentPayload[] = [];
    for (const c of this.connections) {
      if (connectionId !== undefined && c.id !== connectionId) continue;
      for (const p of c.sent) if (p.op === 0) out.push(p);
    }
    return out;
  }

  /**
   * Resolves with the first truthy value `check(record)` returns, re-evaluated on every change
   * to the record. Rejects after `timeoutMs` of real time (default 5_000).
   */
  waitFor<T>(
    check: (record: GatewayRecord) => T | null | undefined | false,
    { timeoutMs = 5_000 }: { timeoutMs?: number } = {},
  ): Promise<T> {
    const first = check(this);
    if (first) return Promise.resolve(first);
    return new Promise<T>((resolve, reject) => {
      const onChange = (): void => {
        let value: T | null | undefined | false;
        try {
          value = check(this);
        } catch (error) {
          finish();
          reject(error);
          return;
        }
        if (value) {
          finish();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`FakeGateway.waitFor: condition still false after ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.changes.off('change', onChange);
      };
      this.changes.on('change', onChange);
    });
  }

  /** Tells waiters the record changed (called by the gateway after every mutation). */
  touch(): void {
    this.changes.emit('change');
  }

  /** @internal */
  addConnection(record: ConnectionRecord): void {
    this.push(this.connections, record, this.maxConnections);
  }

  /** @internal */
  add<
    K extends 'identifies' | 'resumes' | 'violations' | 'heartbeatRequests' | 'upgrades' | 'http',
  >(list: K, entry: GatewayRecord[K][number]): void {
    this.push(this[list] as unknown[], entry, this.maxEntries);
  }

  /** @internal appends to a capped per-connection payload list */
  addPayload<P>(list: P[], entry: P): void {
    if (this.maxPayloadsPerConnection <= 0) return;
    trim(list, this.maxPayloadsPerConnection);
    list.push(entry);
    this.touch();
  }

  private push<E>(list: E[], entry: E, max: number): void {
    trim(list, max);
    list.push(entry);
    this.touch();
  }
}

/** Makes room for one more entry, dropping the oldest tenth at once (amortized O(1) per entry). */
function trim(list: unknown[], max: number): void {
  if (list.length >= max) list.splice(0, Math.max(1, Math.ceil(max / 10)));
}
