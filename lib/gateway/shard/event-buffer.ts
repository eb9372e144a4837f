import type { GatewayLogger } from '../logger.js';

/**
 * A bounded FIFO behind an AsyncIterableIterator. When the consumer is
 * slower than the shard and `capacity` items wait, new items are dropped (the ones already
 * buffered stay in order) and counted; `onOverflow` is called once when a burst of drops
 * starts and once when it ends (the next item that fits), so a slow consumer never costs
 * unbounded memory nor floods the log.
 */
export class EventBuffer<T> implements AsyncIterableIterator<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private size = 0;
  private waiters: ((result: IteratorResult<T>) => void)[] = [];
  private ended = false;
  private droppedTotal = 0;
  private droppedInBurst = 0;

  /**
   * @param capacity how many undelivered items are kept (>= 1).
   * @param onOverflow `(phase, dropped)`: `'start'` when the first item of a burst is dropped,
   *   `'end'` with the burst's drop count when an item fits again.
   * @param onReturn called once when the consumer stops iterating (break/return) or {@link end}.
   */
  constructor(
    readonly capacity: number,
    private readonly onOverflow: (phase: 'start' | 'end', dropped: number) => void,
    private readonly onReturn: () => void,
  ) {
    this.items = new Array<T | undefined>(Math.max(1, capacity));
  }

  /** Items dropped because the buffer was full, since creation. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Items waiting for the consumer. */
  get length(): number {
    return this.size;
  }

  push(item: T): void {
    if (this.ended) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter({ value: item, done: false });
      return;
    }
    if (this.size === this.items.length) {
      this.droppedTotal++;
      if (this.droppedInBurst++ === 0) this.onOverflow('start', 0);
      return;
    }
    if (this.droppedInBurst > 0) {
      this.onOverflow('end', this.droppedInBurst);
      this.droppedInBurst = 0;
    }
    this.items[(this.head + this.size) % this.items.length] = item;
    this.size++;
  }

  /** No more items will come; buffered ones are still delivered, then iteration ends. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const waiter of this.waiters) waiter({ value: undefined, done: true });
    this.waiters = [];
    this.onReturn();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const value = this.items[this.head] as T;
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.items.length;
      this.size--;
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.size = 0;
    this.items.fill(undefined);
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/**
 * The `onOverflow` of an {@link EventBuffer} that warns once when `owner`'s buffer starts
 * dropping and once, with the count, when its consumer caught up.
 */
export function warnOnOverflow(
  logger: GatewayLogger,
  owner: string,
  capacity: number,
): (phase: 'start' | 'end', dropped: number) => void {
  return (phase, dropped) =>
    logger.warn(
      phase === 'start'
        ? `${owner} events() buffer full (${capacity} events); dropping new events until the consumer catches up`
        : `${owner} events() consumer caught up; ${dropped} events were dropped`,
    );
}
