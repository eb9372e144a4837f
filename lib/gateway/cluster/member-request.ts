import { randomBytes } from 'node:crypto';
import type {
  APIGuildMember,
  GatewayGuildMembersChunkDispatchData,
  GatewayGuildMembersChunkPresence,
  GatewayRateLimitedDispatchData,
  GatewayRequestGuildMembersData,
} from 'discord-api-types/v10';
import type { Clock, TimerHandle } from '../clock/clock.js';
import {
  GatewayTimeoutError,
  MemberRequestRateLimitedError,
  ProtocolError,
  ShardClosedError,
} from '../errors/errors.js';
import { EventType } from '../events/event-type.js';
import { EventTypeFlags } from '../events/event-type-flags.js';

/** Chunk answers of op 8 are decoded while a member request waits, whatever the flags. */
const MEMBER_REQUEST_FLAGS = EventTypeFlags.of(EventType.GuildMembersChunk, EventType.RateLimited);
const DEFAULT_MEMBER_REQUEST_TIMEOUT_MS = 30_000;

/** What `Cluster.requestGuildMembers` takes besides the guild id (op 8, Discord docs: Gateway Events, Request Guild Members). */
export interface MemberRequestOptions {
  /** Username prefix; `''` with `limit: 0` asks for every member (Discord docs: Request Guild Members). Default `''` unless `userIds` is given. */
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
 * its nonce (Discord docs: Request Guild Members). Complete once `chunk_count` distinct chunks arrived (counted, not by
 * `chunk_index == chunk_count - 1`). Fails with `MemberRequestRateLimitedError` on a
 * RATE_LIMITED answer (Discord docs: Request Guild Members), `GatewayTimeoutError` after `timeoutMs` without a chunk,
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

/** What makes a chunk unusable, or `null` (Discord docs: Gateway Events, Guild Members Chunk). */
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

/**
 * The cluster's pending member requests, by nonce: starts each one and matches the answers
 * (GUILD_MEMBERS_CHUNK by nonce, RATE_LIMITED by nonce or else by guild) to it.
 */
export class MemberRequestRegistry {
  private readonly pending = new Map<string, MemberRequest>();

  /**
   * @param onRequiredFlags called with the types every shard must decode for the answers:
   *   GUILD_MEMBERS_CHUNK and RATE_LIMITED when the first request starts waiting, none once
   *   the last one settled
   */
  constructor(
    private readonly clock: Clock,
    private readonly onRequiredFlags: (flags: EventTypeFlags) => void,
  ) {}

  /**
   * Registers a request with a generated nonce (32 bytes, Discord docs: Request Guild Members), then sends op 8 through
   * `send`; a rejected send fails the request.
   */
  start(
    guildId: string,
    shardId: number,
    options: MemberRequestOptions,
    send: (data: GatewayRequestGuildMembersData) => Promise<void>,
  ): MemberRequest {
    const nonce = randomBytes(16).toString('hex');
    const request = new MemberRequest(
      guildId,
      shardId,
      nonce,
      options.timeoutMs ?? DEFAULT_MEMBER_REQUEST_TIMEOUT_MS,
      this.clock,
      (settled) => {
        this.pending.delete(settled.nonce);
        if (this.pending.size === 0) this.onRequiredFlags(EventTypeFlags.NONE);
      },
    );
    this.pending.set(nonce, request);
    if (this.pending.size === 1) this.onRequiredFlags(MEMBER_REQUEST_FLAGS);
    const data = {
      guild_id: guildId,
      nonce,
      ...(options.presences === undefined ? {} : { presences: options.presences }),
      ...(options.userIds === undefined
        ? { query: options.query ?? '', limit: options.limit ?? 0 }
        : {
            user_ids: [...options.userIds],
            ...(options.query === undefined ? {} : { query: options.query }),
            ...(options.limit === undefined ? {} : { limit: options.limit }),
          }),
    } as GatewayRequestGuildMembersData;
    send(data).catch((error: unknown) => request.fail(error));
    return request;
  }

  /**
   * A GUILD_MEMBERS_CHUNK of any shard, as the gateway sent it: fed to the request its nonce
   * names, if any (the request judges the rest of its shape).
   */
  onChunk(chunk: GatewayGuildMembersChunkDispatchData): void {
    const nonce = (chunk as { nonce?: unknown } | null)?.nonce;
    if (typeof nonce !== 'string') return;
    this.pending.get(nonce)?.handleChunk(chunk);
  }

  /**
   * A RATE_LIMITED of shard `shardId`, as the gateway sent it: an op 8 one fails the request it
   * answers. One without `meta` (or not an object at all) matches no request; it never throws,
   * so the cluster's listeners still receive it.
   */
  onRateLimited(shardId: number, data: GatewayRateLimitedDispatchData): void {
    const raw = data as Partial<Record<keyof GatewayRateLimitedDispatchData, unknown>> | null;
    if (raw?.opcode !== 8 || typeof raw.meta !== 'object' || raw.meta === null) return;
    const meta = raw.meta as { guild_id?: unknown; nonce?: unknown };
    const nonce = typeof meta.nonce === 'string' ? meta.nonce : undefined;
    let request = nonce === undefined ? undefined : this.pending.get(nonce);
    if (request === undefined && nonce === undefined) {
      // Without a nonce the answer can only be matched by guild: the oldest request for it.
      for (const candidate of this.pending.values()) {
        if (candidate.shardId === shardId && candidate.guildId === meta.guild_id) {
          request = candidate;
          break;
        }
      }
    }
    const retryAfter = Number.isFinite(raw.retry_after) ? (raw.retry_after as number) : 0;
    request?.fail(new MemberRequestRateLimitedError(request.guildId, retryAfter, nonce));
  }

  /** Fails every pending request with ShardClosedError (the cluster is shutting down). */
  failAll(): void {
    for (const request of [...this.pending.values()]) {
      request.fail(new ShardClosedError(request.shardId, 'member request'));
    }
  }
}
