import { jest } from '@jest/globals';
import { systemClock, type Clock, type TimerHandle } from '../../lib/gateway/clock/clock.js';
import { ShardState } from '../../lib/gateway/shard/shard-state.js';
import { count, harness, until, type Harness } from '../gateway/shard/helpers.js';

jest.setTimeout(20_000);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Real time, counting the timers still pending. */
function trackingClock(): Clock & { pending: Set<TimerHandle> } {
  const pending = new Set<TimerHandle>();
  return {
    pending,
    now: () => systemClock.now(),
    setTimeout(callback, delayMs) {
      const handle = systemClock.setTimeout(() => {
        pending.delete(handle);
        callback();
      }, delayMs);
      pending.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      if (handle !== undefined) pending.delete(handle);
      systemClock.clearTimeout(handle);
    },
  };
}

/** Makes the gateway send op 7 and closes the shard with `code` from the Resuming state change. */
async function closeOnEnteringResuming(harness: Harness, code: number): Promise<void> {
  let closing: Promise<unknown> | null = null;
  harness.shard.addListener((event) => {
    const state = (event.data as { state?: string } | null)?.state;
    if (event.type === 'SHARD_STATE_CHANGED' && state === ShardState.Resuming)
      closing ??= harness.shard.close(code);
  });
  (await harness.gw.waitForConnection(0)).reconnect();
  await until(() => closing !== null);
  await closing;
}

describe('close() from inside a listener, mid-handshake (the soak user-close fault)', () => {
  it.each([4000, 1000])(
    'GW-GT-8: close(%i) on entering Resuming leaves no timer of the shard behind',
    async (code) => {
      const clock = trackingClock();
      h = await harness({}, {}, { clock });
      await h.shard.connect();
      await closeOnEnteringResuming(h, code);
      expect(h.shard.state).toBe(ShardState.Closed);
      expect(count(h.events, 'SHARD_RESUMED')).toBe(0);
      expect(clock.pending.size).toBe(0);
    },
  );

  it.each([
    [1000, false],
    [4000, true],
  ])(
    'GW-CL-1: close(%i) on entering Resuming reaches the gateway after the RESUME; session kept: %p',
    async (code, kept) => {
      h = await harness();
      await h.shard.connect();
      const sessionId = h.shard.session!.id;
      await closeOnEnteringResuming(h, code);
      const second = h.gw.record.connections[1]!;
      await until(() => second.closedAt !== null);
      // The gateway learnt the session from the RESUME before the close frame, so a 1000 ends
      // that session there and then instead of leaving it to expire.
      expect(h.gw.record.resumes.map((r) => [r.sessionId, r.outcome])).toEqual([
        [sessionId, 'resumed'],
      ]);
      expect(second.sessionId).toBe(sessionId);
      expect(second.clientCloseCode).toBe(code);
      expect(h.gw.sessions().some((s) => s.id === sessionId)).toBe(kept);
    },
  );
});
