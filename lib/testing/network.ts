import type { FakeClock, FakeTimerHandle } from './clock.js';
import { SeededRandom } from './random.js';

/** Transit time of one direction of a connection: `delayMs + uniform(0, jitterMs)` per frame. */
export interface TransitOptions {
  /** Fixed part, ms. Default 0. */
  delayMs?: number;
  /** Upper bound of the uniform random part, ms. Default 0. */
  jitterMs?: number;
}

/**
 * The path between a client and the gateway (docs/protocol.md section 11). Each
 * direction of each connection is a FIFO: a frame never overtakes an earlier one, so a frame
 * whose own draw would land before its predecessor arrives right after it.
 */
export interface NetworkOptions {
  /** Client to gateway: when the gateway reads, stamps and judges a client frame. */
  inbound?: TransitOptions;
  /** Gateway to client: when a frame is handed to the socket. */
  outbound?: TransitOptions;
  /** Seed of the jitter draws (mixed with the connection id). Default 1. */
  seed?: number;
}

/** {@link TransitOptions} with defaults filled in. */
export interface Transit {
  readonly delayMs: number;
  readonly jitterMs: number;
}

/** Whether `transit` delays anything at all. */
export const delays = (transit: Transit): boolean => transit.delayMs > 0 || transit.jitterMs > 0;

/**
 * One direction of one connection: items come out in the order they went in, each no earlier
 * than its own `now + delay + uniform(0, jitter)`. Runs one timer on the gateway's clock.
 */
export class TransitQueue<T> {
  private readonly items: { item: T; dueAt: number }[] = [];
  private lastDueAt = -Infinity;
  private timer: FakeTimerHandle | undefined;

  constructor(
    private readonly clock: FakeClock,
    private readonly transit: Transit,
    private readonly random: SeededRandom,
    private readonly deliver: (item: T) => void,
  ) {}

  /** Items still in transit. */
  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    const drawn =
      this.clock.now() + this.transit.delayMs + this.random.next() * this.transit.jitterMs;
    const dueAt = Math.max(drawn, this.lastDueAt);
    this.lastDueAt = dueAt;
    this.items.push({ item, dueAt });
    if (this.timer === undefined) this.schedule();
  }

  /** Drops everything in transit (the connection is gone) and stops the timer. */
  clear(): void {
    this.items.length = 0;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const head = this.items[0];
    if (head === undefined) return;
    this.timer = this.clock.setTimeout(
      this.flush,
      Math.max(0, Math.ceil(head.dueAt - this.clock.now())),
    );
  }

  private readonly flush = (): void => {
    this.timer = undefined;
    const now = this.clock.now();
    while (this.items.length > 0 && this.items[0].dueAt <= now)
      this.deliver(this.items.shift()!.item);
    // A delivery that pushed a new item has already scheduled the head.
    if (this.timer === undefined) this.schedule();
  };
}
