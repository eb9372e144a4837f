import type { GatewayEvent } from '../../lib/gateway/events/gateway-event.js';
import {
  FakeGatewayProcess,
  type NetworkOptions,
  type RemoteGatewayOptions,
} from '../../lib/testing/index.js';

/**
 * The path of every network test: a few ms of delay and 20 ms of jitter each way, FIFO per
 * connection. On a machine whose two cores are shared, the gateway process is also
 * descheduled now and then, which stamps some frames late: that is jitter too, and the
 * margins these tests give the client are sized for it.
 */
export const NETWORK: NetworkOptions = {
  inbound: { delayMs: 2, jitterMs: 20 },
  outbound: { delayMs: 2, jitterMs: 20 },
  seed: 11,
};

/** A FakeGateway in its own process, on real time, with {@link NETWORK} on the path. */
export function startNetworkGateway(options: RemoteGatewayOptions): Promise<FakeGatewayProcess> {
  return FakeGatewayProcess.start({ network: NETWORK, ...options });
}

/** Polls `condition` in real time until it holds; throws after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: still false after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function count(events: readonly GatewayEvent[], type: string): number {
  let n = 0;
  for (const event of events) if (event.type === type) n++;
  return n;
}

/**
 * The largest number of `stamps` (sorted ascending) inside any closed span of `windowMs`:
 * the strictest reading of "N per window", computed here independently of the gateway.
 */
export function peakInWindow(stamps: readonly number[], windowMs: number): number {
  let peak = 0;
  let start = 0;
  for (let end = 0; end < stamps.length; end++) {
    while (stamps[end] - stamps[start] > windowMs) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}
