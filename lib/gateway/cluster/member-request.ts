import type {
  APIGuildMember,
  GatewayGuildMembersChunkDispatchData,
  GatewayGuildMembersChunkPresence,
} from 'discord-api-types/v10';
import type { Clock, TimerHandle } from '../clock/clock.js';
import { GatewayTimeoutError, ProtocolError } from '../errors/errors.js';

/** What `Cluster.requestGuildMembers` takes besides the guild id (op 8, PROTOCOL.md section 15). */
export interface MemberRequestOptions {
  /** Username prefix; `''` with `limit: 0` asks for every member (GW-RL-5). Default `''` unless `userIds` is given. */
  readonly query?: string;
  /** Most members to return; `0` = no limit with `query: ''`. Default 0. */
  readonly limit?: number;
  /** Members to fetch by id (at most 100); excludes `query`. */
  readonly userIds?: readonly string[];
  /** Also return presences (needs GUILD_PRESENCES). Default false. */
  readonly presences?: boolean;
  /** Ms without a new chunk before the request fails with GatewayTimeoutError. Default 30_000. */
  readonly timeoutMs?: number;
}

/** An observer in the shape rxjs' `Subscriber` has, so `new Observable((s) => req.subscribe(s))` works. */
export interface MemberRequestObserver {
  next?(chunk: GatewayGuildMembersChunkDispatchData): void;
  error?(error: unknown): void;
  complete?(): void;
}

/** Every chunk of an answer, gathered. */
export interface MemberRequestResult {
  /** Members of every chunk, in chunk_index order. */
  readonly members: APIGuildMember[];
  /** Requested user ids that are not members (`not_found` of every chunk). */
  readonly notFound: string[];
  /** Presences of every chunk (only when requested). */
  readonly presences: GatewayGuildMembersChunkPresence[];
  /** The chunks, ordered by chunk_index. */
  readonly chunks: GatewayGuildMembersChunkDispatchData[];
}

type RequestState = 'pending' | 'complete' | 'failed';

/**
 * One Request Guild Members (op 8) and its answer: the GUILD_MEMBERS_CHUNK dispatches carrying
 * its nonce (GW-GT-19). Complete once `chunk_count` distinct chunks arrived (counted, not by
 * `chunk_index == chunk_count - 1`). Fails with `MemberRequestRateLimitedError` on a
 * RATE_LIMITED answer (GW-RL-5), `GatewayTimeoutError` after `timeoutMs` without a chunk,
 * `ProtocolError` on a chunk that is not the documented shape (its fields are counted and
 * gathered, so one malformed chunk would otherwise break or stall the whole answer), or the
 * shard's error when the command could not be sent or the cluster shut down.
 *
 * The request is sent when created (it does not wait for a subscriber); chunks are kept until
 * it settles, so every consumer (iterator, `subscribe`, `all()`) sees all of them.
 */
export class MemberRequest implements AsyncIterable<GatewayGuildMembersChunkDispatchData> {
  private readonly received: GatewayGuildMembersChunkDispatchData[] = [];
  private readonly indices = new Set<number>();
  private readonly observers = new Set<MemberRequestObserver>();
  private readonly wakers = new Set<() => void>();
  private state: RequestState = 'pending';
  private failure: unknown;
  private timer: TimerHandle | undefined;
  private result: Promise<MemberRequestResult> | undefined;

  /** @internal created by the cluster, which feeds it chunks and calls `onSettled` to clean up. */
  constructor(
    readonly guildId: string,
    readonly shardId: number,
    /** The nonce sent with op 8 and echoed in each chunk (at most 32 bytes). */
    readonly nonce: string,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
    private readonly onSettled: (request: MemberRequest) => void,
  ) {
    this.armTimer();
  }

  /** Whether the answer is complete or failed. */
  get settled(): boolean {
    return this.state !== 'pending';
  }

  /** @internal A GUILD_MEMBERS_CHUNK carrying this request's nonce, as the gateway sent it. */
  handleChunk(chunk: GatewayGuildMembersChunkDispatchData): void {
    if (this.state !== 'pending') return;
    const problem = chunkProblem(chunk);
    if (problem !== null) {
      this.fail(
        new ProtocolError(
          `GUILD_MEMBERS_CHUNK of guild ${this.guildId} (nonce ${this.nonce}) ${problem}; the request failed`,
        ),
      );
      return;
    }
    if (this.indices.has(chunk.chunk_index)) return;
    this.indices.add(chunk.chunk_index);
    this.received.push(chunk);
    for (const observer of this.observers) observer.next?.(chunk);
    this.wake();
    if (this.indices.size >= chunk.chunk_count) this.settle('complete');
    else this.armTimer();
  }

  /** @internal Fails the request (RATE_LIMITED, send failure, shutdown). */
  fail(error: unknown): void {
    if (this.state !== 'pending') return;
    this.failure = error;
    this.settle('failed');
  }

  /**
   * Every chunk, once all arrived.
   * @throws MemberRequestRateLimitedError, GatewayTimeoutError, or the send/shutdown error
   */
  all(): Promise<MemberRequestResult> {
    this.result ??= new Promise<MemberRequestResult>((resolve, reject) => {
      this.subscribe({ error: reject, complete: () => resolve(this.gather()) });
    });
    return this.result;
  }

  /**
   * Calls `observer.next` for each chunk (those already received first, synchronously), then
   * `complete` or `error` once. Returns a function that stops the calls.
   */
  subscribe(observer: MemberRequestObserver): () => void {
    for (const chunk of this.received) observer.next?.(chunk);
    if (this.state === 'complete') observer.complete?.();
    else if (this.state === 'failed') observer.error?.(this.failure);
    else this.observers.add(observer);
    return () => {
      this.observers.delete(observer);
    };
  }

  /** Yields each chunk in arrival order; throws the request's error after the chunks received before it. */
  async *[Symbol.asyncIterator](): AsyncIterator<GatewayGuildMembersChunkDispatchData> {
    let cursor = 0;
    for (;;) {
      if (cursor < this.received.length) {
        yield this.received[cursor++];
        continue;
      }
      if (this.state === 'complete') return;
      if (this.state === 'failed') throw this.failure;
      await new Promise<void>((resolve) => this.wakers.add(resolve));
    }
  }

  private gather(): MemberRequestResult {
    const chunks = [...this.received].sort((a, b) => a.chunk_index - b.chunk_index);
    return {
      chunks,
      members: chunks.flatMap((chunk) => chunk.members),
      notFound: chunks.flatMap((chunk) => (chunk.not_found ?? []).map(String)),
      presences: chunks.flatMap((chunk) => chunk.presences ?? []),
    };
  }

  private settle(state: Exclude<RequestState, 'pending'>): void {
    this.state = state;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const observers = [...this.observers];
    this.observers.clear();
    for (const observer of observers) {
      if (state === 'complete') observer.complete?.();
      else observer.error?.(this.failure);
    }
    this.wake();
    this.onSettled(this);
  }

  private wake(): void {
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const wake of wakers) wake();
  }

  private armTimer(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.fail(
        new GatewayTimeoutError(
          `GUILD_MEMBERS_CHUNK of guild ${this.guildId} (nonce ${this.nonce})`,
          this.timeoutMs,
        ),
      );
    }, this.timeoutMs);
  }
}

/** What makes a chunk unusable, or `null` (PROTOCOL.md section 15: Guild Members Chunk). */
function chunkProblem(chunk: unknown): string | null {
  const c = chunk as Partial<Record<keyof GatewayGuildMembersChunkDispatchData, unknown>> | null;
  if (typeof c !== 'object' || c === null) return 'is not an object';
  if (!Number.isSafeInteger(c.chunk_count) || (c.chunk_count as number) < 1)
    return 'has no positive integer chunk_count';
  if (
    !Number.isSafeInteger(c.chunk_index) ||
    (c.chunk_index as number) < 0 ||
    (c.chunk_index as number) >= (c.chunk_count as number)
  )
    return 'has no chunk_index in [0, chunk_count)';
  if (!Array.isArray(c.members)) return 'has members that are not an array';
  if (c.not_found !== undefined && !Array.isArray(c.not_found))
    return 'has not_found that is not an array';
  if (c.presences !== undefined && !Array.isArray(c.presences))
    return 'has presences that are not an array';
  return null;
}
