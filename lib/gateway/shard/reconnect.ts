import type { TimerHandle } from '../clock/clock.js';
import { EventType } from '../events/event-type.js';
import { Backoff } from './backoff.js';
import type { ShardContext } from './shard-context.js';

/** Attempts in a row after which an unstable shard is reported (warn), then at each doubling. */
const UNSTABLE_WARN_ATTEMPTS = 5;

/**
 * When a shard opens its next connection: after the {@link Backoff} delay (the first attempt
 * after a drop at once, on the next I/O turn), or later when the reason for the drop asks
 * for it (op 9's wait). Announces each attempt as SHARD_RECONNECTING.
 *
 * The backoff starts over only after a connection that stayed Active for
 * `reconnect.stableAfterMs` (GW-GT-13). Reaching READY or RESUMED is not enough: a gateway
 * (or a middlebox) that drops every connection right after RESUMED would otherwise get an
 * immediate RESUME, carrying the token, tens of thousands of times a minute. Such a shard's
 * attempts keep counting, its waits grow to `reconnect.maxDelayMs` (on average 0.75 of it with
 * the jitter: 1.3 connections a minute with the defaults), and it is reported at 5, 10, 20, 40,
 * ... attempts in a row.
 */
export class Reconnector {
  /** Reconnects announced since the shard was created. */
  count = 0;
  /** Made by the first reconnect: a shard that never drops holds none. */
  private backoff: Backoff | null = null;
  private timer: TimerHandle | undefined = undefined;
  private immediate: NodeJS.Immediate | undefined = undefined;
  private nextWarning = UNSTABLE_WARN_ATTEMPTS;

  constructor(private readonly ctx: ShardContext) {}

  /** Attempts in a row since the last stable connection. */
  get attempts(): number {
    return this.backoff?.attempts ?? 0;
  }

  /**
   * A connection ended after `activeForMs` ms of being Active (`null`: it never was). One that
   * stayed up for `reconnect.stableAfterMs` makes the next drop reconnect at once again.
   */
  connectionEnded(activeForMs: number | null): void {
    if (activeForMs === null || activeForMs < this.ctx.config.reconnect.stableAfterMs) return;
    this.backoff?.reset();
    this.nextWarning = UNSTABLE_WARN_ATTEMPTS;
  }

  /**
   * Counts and announces the next attempt (`resume`: it will RESUME); returns its delay (ms),
   * at least `minDelayMs`. A listener of the announcement may close the shard: call
   * {@link start} only if it still runs.
   */
  announce(minDelayMs: number, resume: boolean): number {
    const { logger, prefix, config, random } = this.ctx;
    const backoff = (this.backoff ??= new Backoff(
      config.reconnect.baseDelayMs,
      config.reconnect.maxDelayMs,
      random,
    ));
    const delayMs = Math.max(backoff.next(), minDelayMs);
    this.count++;
    const attempt = backoff.attempts;
    logger.debug(
      `${prefix} reconnecting in ${delayMs} ms (attempt ${attempt}, ${resume ? 'resume' : 'identify'})`,
    );
    if (attempt >= this.nextWarning) {
      this.nextWarning = attempt * 2;
      logger.warn(
        `${prefix} ${attempt} connections in a row ended before staying Active for ` +
          `${config.reconnect.stableAfterMs} ms; reconnecting more slowly (next in ${delayMs} ms, ` +
          `at most every ${config.reconnect.maxDelayMs} ms) until one stays up`,
      );
    }
    this.ctx.delivery.emit(EventType.ShardReconnecting, { attempt, delayMs, resume });
    return delayMs;
  }

  /** Calls `open` after `delayMs` (0: on the next I/O turn). */
  start(delayMs: number, open: () => void): void {
    const fire = (): void => {
      this.timer = undefined;
      this.immediate = undefined;
      open();
    };
    if (delayMs === 0) this.immediate = setImmediate(fire);
    else this.timer = this.ctx.clock.setTimeout(fire, delayMs);
  }

  cancel(): void {
    this.ctx.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
  }
}
