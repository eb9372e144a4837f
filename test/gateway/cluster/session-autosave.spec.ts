import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import {
  SessionAutosave,
  type AutosavedShard,
} from '../../../lib/gateway/cluster/session-autosave.js';
import type { GatewayLogger } from '../../../lib/gateway/logger.js';
import type { Session, SessionStore } from '../../../lib/gateway/session/session.js';
import { ShardState } from '../../../lib/gateway/shard/shard-state.js';

interface FakeShard extends AutosavedShard {
  state: ShardState;
  session: Session | null;
}

/** A store that records each save and can be made to fail or to hold saves open. */
function recordingStore() {
  const saves: { shardId: number; shardCount: number; session: Session }[] = [];
  const held: (() => void)[] = [];
  const control = { fail: false, hold: false };
  const store: SessionStore = {
    saveIntervalMs: 1_000,
    load: async () => null,
    delete: async () => {},
    save: (shardId, shardCount, session) => {
      if (control.fail) return Promise.reject(new Error('connection refused'));
      saves.push({ shardId, shardCount, session: { ...session } });
      if (!control.hold) return Promise.resolve();
      return new Promise<void>((resolve) => held.push(resolve));
    },
  };
  return { store, saves, held, control };
}

function recordingLogger(): GatewayLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string) => lines.push(m);
  return { lines, debug: () => {}, log: push, warn: push, error: push };
}

const shard = (id: number, sequence: number, state = ShardState.Active): FakeShard => ({
  id,
  state,
  session: { id: `s${id}`, sequence, resumeUrl: 'wss://resume.example' },
});

describe('SessionAutosave', () => {
  it('saves every Active shard once per interval (each save renews the TTL), and one at once with saveNow', async () => {
    const clock = new ManualClock();
    const { store, saves } = recordingStore();
    const shards = [shard(0, 10), shard(1, 5), shard(2, 7, ShardState.Resuming)];
    const autosave = new SessionAutosave({
      store,
      intervalMs: 1_000,
      shardCount: 4,
      shards: () => shards,
      clock,
      logger: recordingLogger(),
    });
    autosave.start();
    await clock.advance(999);
    expect(saves).toHaveLength(0);
    await clock.advance(1);
    expect(saves.map((s) => [s.shardId, s.shardCount, s.session.sequence])).toEqual([
      [0, 4, 10],
      [1, 4, 5],
    ]);
    // Shard 0 moved on, shard 1 did not (saved again all the same); shard 2 is not Active.
    shards[0].session = { ...(shards[0].session as Session), sequence: 11 };
    await clock.advance(1_000);
    expect(saves.slice(2).map((s) => [s.shardId, s.session.sequence])).toEqual([
      [0, 11],
      [1, 5],
    ]);
    shards[2].state = ShardState.Active;
    autosave.saveNow(2);
    await clock.advance(0);
    expect(saves.at(-1)).toMatchObject({ shardId: 2, session: { id: 's2', sequence: 7 } });
    await autosave.stop();
    await clock.advance(5_000);
    expect(saves).toHaveLength(5);
  });

  it('keeps at most one save per shard on its way, and stop() waits for it', async () => {
    const clock = new ManualClock();
    const { store, saves, held, control } = recordingStore();
    const shards = [shard(0, 1)];
    const autosave = new SessionAutosave({
      store,
      intervalMs: 100,
      shardCount: 1,
      shards: () => shards,
      clock,
      logger: recordingLogger(),
    });
    control.hold = true;
    autosave.start();
    await clock.advance(500);
    expect(saves).toHaveLength(1);
    let stopped = false;
    const stopping = autosave.stop().then(() => (stopped = true));
    await clock.advance(0);
    expect(stopped).toBe(false);
    held.forEach((release) => release());
    await stopping;
    expect(stopped).toBe(true);
  });

  it('a failing store is logged once per outage and once when saves work again', async () => {
    const clock = new ManualClock();
    const { store, saves, control } = recordingStore();
    const logger = recordingLogger();
    const shards = [shard(0, 1), shard(1, 1)];
    const autosave = new SessionAutosave({
      store,
      intervalMs: 100,
      shardCount: 2,
      shards: () => shards,
      clock,
      logger,
    });
    control.fail = true;
    autosave.start();
    await clock.advance(500);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatch(
      /^Cannot save the sessions of Active shards \(connection refused\)/,
    );
    control.fail = false;
    await clock.advance(100);
    expect(saves).toHaveLength(2);
    expect(logger.lines[1]).toMatch(/^Sessions are saved again/);
    await autosave.stop();
  });
});
