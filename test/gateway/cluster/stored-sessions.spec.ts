import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import { StoredSessions } from '../../../lib/gateway/cluster/stored-sessions.js';
import type { GatewayLogger } from '../../../lib/gateway/logger.js';
import { MemorySessionStore } from '../../../lib/gateway/session/memory-session-store.js';
import type { Session, SessionStore } from '../../../lib/gateway/session/session.js';
import { ShardState } from '../../../lib/gateway/shard/shard-state.js';

const GATEWAY = 'wss://gateway.discord.gg';
const session = (id: string, resumeUrl = 'wss://resume.discord.gg'): Session => ({
  id,
  sequence: 42,
  resumeUrl,
});

function setup(store: SessionStore = new MemorySessionStore(), allowInsecure = false) {
  const lines: string[] = [];
  const logger: GatewayLogger = {
    debug: () => {},
    log: () => {},
    warn: (message) => lines.push(`warn ${message}`),
    error: (message) => lines.push(`error ${message}`),
  };
  return { stored: new StoredSessions(store, logger, allowInsecure), store, lines };
}

describe('StoredSessions (the one-time handoff, without shards)', () => {
  it('loads the session of the same shard count only', async () => {
    const { stored, store } = setup();
    await store.save(0, 2, session('a'));
    expect(await stored.load(0, 2, GATEWAY)).toEqual(session('a'));
    expect(await stored.load(0, 4, GATEWAY)).toBeNull();
  });

  it('deletes a session whose resume URL would downgrade to ws:, so that shard identifies', async () => {
    const { stored, store, lines } = setup();
    await store.save(1, 2, session('b', 'ws://127.0.0.1:9000'));
    expect(await stored.load(1, 2, GATEWAY)).toBeNull();
    expect(await store.load(1, 2)).toBeNull();
    expect(lines).toEqual([
      expect.stringMatching(/^warn The stored session of shard 1 is unusable \(resumeUrl .*wss:/),
    ]);
  });

  it('keeps a ws: resume URL when insecure gateways are allowed', async () => {
    const { stored, store } = setup(new MemorySessionStore(), true);
    await store.save(1, 2, session('b', 'ws://127.0.0.1:9000'));
    expect(await stored.load(1, 2, 'ws://127.0.0.1:9000')).toEqual(
      session('b', 'ws://127.0.0.1:9000'),
    );
  });

  it('a store that cannot load is logged and the shard identifies', async () => {
    const failing: SessionStore = {
      load: () => Promise.reject(new Error('disk gone')),
      save: async () => {},
      delete: async () => {},
    };
    const { stored, lines } = setup(failing);
    expect(await stored.load(0, 1, GATEWAY)).toBeNull();
    expect(lines).toEqual([
      'warn Cannot load the stored session of shard 0: disk gone; it will identify',
    ]);
  });

  it('a consumed session is deleted from the store once, and not while stopping', async () => {
    const { stored, store } = setup();
    await store.save(0, 2, session('a'));
    await store.save(1, 2, session('b'));
    stored.markPending([0, 1], [session('a'), session('b')]);
    expect(stored.pendingCount).toBe(2);
    stored.consume(0, 2, false);
    stored.consume(1, 2, true);
    await Promise.resolve();
    expect(await store.load(0, 2)).toBeNull();
    expect(await store.load(1, 2)).toEqual(session('b'));
    expect(stored.pendingCount).toBe(0);
  });

  it('at a resumable stop: saves the live sessions and keeps an unused pending one', async () => {
    const { stored, store } = setup();
    await store.save(1, 3, session('old-1'));
    await store.save(2, 3, session('old-2'));
    stored.markPending([1], [session('old-1')]);
    await stored.persist([0, 1, 2], 3, new Map([[0, session('new-0')]]), true);
    expect(await store.load(0, 3)).toEqual(session('new-0'));
    expect(await store.load(1, 3)).toEqual(session('old-1')); // never used: may still resume
    expect(await store.load(2, 3)).toBeNull(); // consumed earlier, nothing new to keep
  });

  it('at a final stop (close 1000): deletes every session, pending or not', async () => {
    const { stored, store } = setup();
    await store.save(0, 2, session('a'));
    stored.markPending([0], [session('a')]);
    await stored.persist([0, 1], 2, new Map(), false);
    expect(await store.load(0, 2)).toBeNull();
  });

  it('with a store that asks for periodic saves, a consumed session is kept and saved again at once', async () => {
    const store = Object.assign(new MemorySessionStore(), { saveIntervalMs: 60_000 });
    const { stored } = setup(store);
    await store.save(0, 2, session('old'));
    stored.markPending([0, 1], [session('old'), null]);
    const shards = [
      { id: 0, state: ShardState.Active, session: { ...session('old'), sequence: 50 } },
      { id: 1, state: ShardState.Identifying, session: null },
    ];
    stored.startAutosave(2, () => shards, new ManualClock());
    stored.consume(0, 2, false);
    stored.consume(1, 2, false);
    expect(stored.pendingCount).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await store.load(0, 2)).toEqual({ ...session('old'), sequence: 50 });
    expect(await store.load(1, 2)).toBeNull();
    // The shutdown's own save comes after the periodic ones.
    await stored.persist([0, 1], 2, new Map([[0, { ...session('old'), sequence: 60 }]]), true);
    expect(await store.load(0, 2)).toEqual({ ...session('old'), sequence: 60 });
  });
});
