import type { TimerHandle } from '../clock/clock.js';
import { EventType } from '../events/event-type.js';
import { Backoff } from './backoff.js';
import type { ShardContext } from './shard-context.js';

/**
 * When a shard opens its next connection: after the {@link Backoff} delay (the first attempt
 * after a drop at once, on the next I/O turn), or later when the reason for the drop asks
 * for it (op 9's wait). Announces each attempt as SHARD_RECONNECTING.
 */
export class Reconnector {
  /** Reconnects announced since the shard was created. */
  count = 0;
  private readonly backoff: Backoff;
  private timer: TimerHandle | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(private readonly ctx: ShardContext) {
    const { baseDelayMs, maxDelayMs } = ctx.config.reconnect;
    this.backoff = new Backoff(baseDelayMs, maxDelayMs, ctx.random);
  }

  /** The connection reached Active: the next drop reconnects at once again. */
  reset(): void {
    this.backoff.reset();
  }

  /**
   * Counts and announces the next attempt (`resume`: it will RESUME); returns its delay (ms),
   * at least `minDelayMs`. A listener of the announcement may close the shard: call
   * {@link start} only if it still runs.
   */
  announce(minDelayMs: number, resume: boolean): number {
    const delayMs = Math.max(this.backoff.next(), minDelayMs);
    this.count++;
    const attempt = this.backoff.attempts;
    this.ctx.logger.debug(
      `${this.ctx.prefix} reconnecting in ${delayMs} ms (attempt ${attempt}, ${resume ? 'resume' : 'identify'})`,
    );
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
