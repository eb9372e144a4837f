import { AbortedError } from '../errors/errors.js';
import type { GatewayLogger } from '../logger.js';

/** A shard waiting in a bucket's line for its IDENTIFY grant. */
export interface IdentifyWaiter {
  readonly shardId: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/**
 * Puts shard `shardId` at the end of `line`. The promise resolves when the queue grants it
 * (`resolve` of the waiter taken off with {@link leaveLine}). When `signal` aborts first, the
 * waiter leaves `line`, the promise rejects with AbortedError and `afterAbort` runs, for the
 * queue to stop what the line no longer needs.
 */
export function joinLine(
  line: IdentifyWaiter[],
  shardId: number,
  signal: AbortSignal | undefined,
  logger: GatewayLogger,
  afterAbort: () => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const waiter: IdentifyWaiter = {
      shardId,
      resolve,
      reject,
      signal,
      onAbort: () => {
        const index = line.indexOf(waiter);
        if (index === -1) return;
        line.splice(index, 1);
        logger.debug(`Shard ${shardId} left the identify queue (aborted)`);
        reject(new AbortedError(`identify wait of shard ${shardId}`));
        afterAbort();
      },
    };
    signal?.addEventListener('abort', waiter.onAbort, { once: true });
    line.push(waiter);
  });
}

/** Detaches a waiter the queue has taken off its line (granted, refused or closed) from its signal. */
export function leaveLine(waiter: IdentifyWaiter): IdentifyWaiter {
  waiter.signal?.removeEventListener('abort', waiter.onAbort);
  return waiter;
}
