import { systemClock, type Clock, type TimerHandle } from '../clock/index.js';
import { AbortedError } from '../errors/index.js';

/** Discord's send budget per connection: 120 payloads per 60 s, heartbeats included (GW-RL-1). */
export const COMMANDS_PER_WINDOW = 120;
export const COMMAND_WINDOW_MS = 60_000;

/** Presence updates: 5 per 20 s (GW-RL-4). */
export const PRESENCES_PER_WINDOW = 5;
export const PRESENCE_WINDOW_MS = 20_000;

/**
 * Safety margin of the send limiter, ms: a payload stays counted for the window plus this
 * long. Discord counts payloads when they arrive, and the frames of one burst reach it spread
 * out (transit jitter, TCP segmentation, a retransmission after a lost segment, the server
 * reading them one by one), while a later burst can arrive with none of that delay; a limiter
 * that frees its slots exactly one window after its own send stamps is then early at the
 * server, which closes the connection with 4008 (GW-RL-1). One second covers jitter of a few
 * hundred ms and one retransmission, for under 2% of the throughput.
 */
export const COMMAND_MARGIN_MS = 1_000;

/** Safety margin of the presence limiter, ms, for the same reasons as {@link COMMAND_MARGIN_MS}. */
export const PRESENCE_MARGIN_MS = 1_000;

/** Discord's usual heartbeat interval, assumed until HELLO says otherwise. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 41_250;

/**
 * Fewest slots kept for heartbeats. At the usual 41 250 ms interval the formula of
 * {@link heartbeatReserveFor} gives 6; the rest is slack for sends that network jitter
 * bunches together at the server.
 */
export const MIN_HEARTBEAT_RESERVE = 10;

/** Server-requested heartbeats (op 1) provided for per window (GW-GT-7, twilight#1935). */
const SERVER_REQUESTED_HEARTBEATS = 2;

/**
 * The slots of each window that user commands never use (GW-RL-1, GW-GT-14): the regular
 * heartbeats that can fall in one window (`ceil(window / interval)`, plus one for timer drift
 * and the jittered first beat), server-requested heartbeats, and the connection's IDENTIFY or
 * RESUME; at least {@link MIN_HEARTBEAT_RESERVE}, at most `limit - 1`.
 */
export function heartbeatReserveFor(
  heartbeatIntervalMs: number,
  windowMs = COMMAND_WINDOW_MS,
  limit = COMMANDS_PER_WINDOW,
): number {
  const regular = Math.ceil(windowMs / Math.max(1, heartbeatIntervalMs)) + 1;
  const needed = regular + SERVER_REQUESTED_HEARTBEATS + 1;
  return Math.min(limit - 1, Math.max(MIN_HEARTBEAT_RESERVE, needed));
}

/**
 * Send times of one window, oldest first, in a growable ring (no allocation per send). It
 * starts small: an idle connection logs only its heartbeats (two or three per window), and
 * every shard holds two logs.
 */
class SendLog {
  private times: number[] = [0, 0, 0, 0];
  private head = 0;
  size = 0;

  push(time: number): void {
    if (this.size === this.times.length) this.grow();
    this.times[(this.head + this.size) % this.times.length] = time;
    this.size++;
  }

  /** Forgets sends at or before `cutoff`: they have left the window. */
  prune(cutoff: number): void {
    while (this.size > 0 && this.times[this.head] <= cutoff) {
      this.head = (this.head + 1) % this.times.length;
      this.size--;
    }
  }

  /** The `index`-th oldest send time. */
  at(index: number): number {
    return this.times[(this.head + index) % this.times.length];
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }

  private grow(): void {
    const grown = new Array<number>(this.times.length * 2).fill(0);
    for (let i = 0; i < this.size; i++) grown[i] = this.at(i);
    this.times = grown;
    this.head = 0;
  }
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * A sliding-log limiter: at most `capacity()` acquisitions in any `windowMs + marginMs` span,
 * closed at both ends and of any start (not a fixed window): a send stays counted until
 * `windowMs + marginMs + 1` ms after it, so that the server, which judges `windowMs` at
 * arrival, sees sends at least `marginMs` further apart than it requires. Waiters are served
 * in FIFO order from one timer on the injected (monotonic) clock.
 */
abstract class SlidingWindowLimiter {
  protected readonly log: SendLog;
  /** Callers waiting for a slot, FIFO; made by the first wait (most connections never wait). */
  private waiters: Waiter[] | null = null;
  private timer: TimerHandle | undefined = undefined;
  /** How long a send stays counted, in ms. */
  private readonly countedMs: number;

  protected constructor(
    protected readonly clock: Clock,
    /** Payloads allowed in any window. */
    readonly limit: number,
    /** The window in ms. */
    readonly windowMs: number,
    /** The safety margin in ms, added to the window. */
    readonly marginMs: number,
    private readonly what: string,
  ) {
    this.log = new SendLog();
    this.countedMs = windowMs + marginMs + 1;
  }

  /** Slots that non-forced acquisitions may fill per window. */
  protected abstract capacity(): number;

  /** Sends recorded in the window that ends now. */
  get used(): number {
    this.log.prune(this.clock.now() - this.countedMs);
    return this.log.size;
  }

  /** Number of callers waiting for a slot. */
  get waiting(): number {
    return this.waiters?.length ?? 0;
  }

  /**
   * Takes a slot now if one is free and nobody waits ahead (FIFO); records the send.
   * @returns whether the caller may send now.
   */
  tryAcquire(): boolean {
    return (this.waiters === null || this.waiters.length === 0) && this.take();
  }

  /**
   * Starts a new connection's budget: forgets every recorded send and rejects every pending
   * wait with AbortedError (waits belong to one connection, GW-GT-8). Cancels the timer.
   */
  reset(): void {
    this.log.clear();
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const waiters = this.waiters;
    this.waiters = null;
    if (waiters !== null)
      for (const waiter of waiters) this.settle(waiter, new AbortedError(this.what));
  }

  /** Records a send that must go out regardless of the budget. */
  protected force(): void {
    const now = this.clock.now();
    this.log.prune(now - this.countedMs);
    this.log.push(now);
  }

  /** Resolves, in FIFO order, once a slot is taken for the caller. */
  protected enqueue(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortedError(this.what));
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const waiters = this.waiters;
          const index = waiters === null ? -1 : waiters.indexOf(waiter);
          if (waiters === null || index === -1) return;
          waiters.splice(index, 1);
          this.settle(waiter, new AbortedError(this.what));
          if (waiters.length === 0) this.cancelTimer();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      (this.waiters ??= []).push(waiter);
      this.schedule();
    });
  }

  /** Serves waiters while slots are free, then waits for the next slot to free up. */
  protected drain(): void {
    this.cancelTimer();
    const waiters = this.waiters;
    if (waiters === null) return;
    while (waiters.length > 0 && this.take()) this.settle(waiters.shift()!);
    if (waiters.length > 0) this.schedule();
  }

  private take(): boolean {
    const now = this.clock.now();
    this.log.prune(now - this.countedMs);
    if (this.log.size >= this.capacity()) return false;
    this.log.push(now);
    return true;
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const now = this.clock.now();
    this.log.prune(now - this.countedMs);
    // A slot frees when the send that brings the log below capacity leaves the window.
    const blocking = this.log.size - this.capacity();
    const freeAt = blocking < 0 ? now : this.log.at(blocking) + this.countedMs;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.drain();
      },
      Math.max(0, Math.ceil(freeAt - now)),
    );
  }

  private cancelTimer(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private settle(waiter: Waiter, error?: Error): void {
    if (waiter.onAbort !== undefined) waiter.signal!.removeEventListener('abort', waiter.onAbort);
    if (error === undefined) waiter.resolve();
    else waiter.reject(error);
  }
}

/** Options of a {@link CommandRateLimiter}. */
export interface CommandRateLimiterOptions {
  /** Default {@link systemClock}. */
  clock?: Clock;
  /** Payloads per window, heartbeats included. Default 120. */
  limit?: number;
  /** Default 60 000 ms. */
  windowMs?: number;
  /** Safety margin added to the window, ms. Default {@link COMMAND_MARGIN_MS}. */
  marginMs?: number;
  /** A fixed reserve; default `null`: {@link heartbeatReserveFor} the current interval. */
  heartbeatReserve?: number | null;
  /** Until {@link CommandRateLimiter.setHeartbeatInterval}. Default 41 250 ms. */
  heartbeatIntervalMs?: number;
}

/**
 * The send budget of one connection (GW-RL-1, GW-GT-14): the server never receives more than
 * `limit` payloads in any `windowMs` span, heartbeats included, as long as transit times vary
 * by less than `marginMs`; a reserve derived from the heartbeat interval stays free for
 * heartbeats, which are never refused.
 *
 * A shard calls {@link acquireHeartbeat} for every heartbeat and for the connection's
 * IDENTIFY or RESUME, {@link waitForCommand} (or {@link tryAcquire}) before every other
 * payload, {@link setHeartbeatInterval} on HELLO and {@link reset} for each new connection.
 */
export class CommandRateLimiter extends SlidingWindowLimiter {
  private readonly fixedReserve: number | null;
  private reserve: number;

  constructor(options: CommandRateLimiterOptions = {}) {
    super(
      options.clock ?? systemClock,
      options.limit ?? COMMANDS_PER_WINDOW,
      options.windowMs ?? COMMAND_WINDOW_MS,
      options.marginMs ?? COMMAND_MARGIN_MS,
      'command rate limit wait',
    );
    this.fixedReserve = options.heartbeatReserve ?? null;
    this.reserve = this.reserveFor(options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS);
  }

  /** Slots per window that only {@link acquireHeartbeat} uses. */
  get heartbeatReserve(): number {
    return this.reserve;
  }

  /** Records a heartbeat (or IDENTIFY/RESUME); always allowed, it uses the reserve. */
  acquireHeartbeat(): void {
    this.force();
  }

  /**
   * Resolves when a command may be sent, in call order (FIFO); the slot is taken for the
   * caller on resolution, so send right away.
   * @throws AbortedError when `signal` aborts first, or on {@link reset}.
   */
  waitForCommand(signal?: AbortSignal): Promise<void> {
    return this.enqueue(signal);
  }

  /** Re-derives the reserve from the interval of HELLO (ms). */
  setHeartbeatInterval(intervalMs: number): void {
    this.reserve = this.reserveFor(intervalMs);
    this.drain();
  }

  protected capacity(): number {
    return this.limit - this.reserve;
  }

  private reserveFor(intervalMs: number): number {
    // Heartbeats that fall in one counted span (window plus margin).
    return (
      this.fixedReserve ??
      heartbeatReserveFor(intervalMs, this.windowMs + this.marginMs, this.limit)
    );
  }
}

/** Options of a {@link PresenceLimiter}. */
export interface PresenceLimiterOptions {
  /** Default {@link systemClock}. */
  clock?: Clock;
  /** Presence updates per window. Default 5. */
  limit?: number;
  /** Default 20 000 ms. */
  windowMs?: number;
  /** Safety margin added to the window, ms. Default {@link PRESENCE_MARGIN_MS}. */
  marginMs?: number;
}

/**
 * Presence updates (op 3): at most 5 per 20 s at the server (GW-RL-4), paced with a margin. A
 * presence update also takes a {@link CommandRateLimiter} slot. The budget is kept across
 * reconnects on purpose: whether Discord counts it per connection is not documented.
 */
export class PresenceLimiter extends SlidingWindowLimiter {
  constructor(options: PresenceLimiterOptions = {}) {
    super(
      options.clock ?? systemClock,
      options.limit ?? PRESENCES_PER_WINDOW,
      options.windowMs ?? PRESENCE_WINDOW_MS,
      options.marginMs ?? PRESENCE_MARGIN_MS,
      'presence rate limit wait',
    );
  }

  /**
   * Resolves when a presence update may be sent, in call order (FIFO).
   * @throws AbortedError when `signal` aborts first, or on {@link reset}.
   */
  waitForPresence(signal?: AbortSignal): Promise<void> {
    return this.enqueue(signal);
  }

  protected capacity(): number {
    return this.limit;
  }
}
