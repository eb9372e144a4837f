import type { Redis, RedisOptions } from 'ioredis';
import {
  AbortedError,
  ConfigError,
  IdentifyBudgetError,
  type GatewayLogger,
} from '../../lib/gateway/index.js';
import { RedisIdentifyQueue, type RedisIdentifyQueueOptions } from '../../lib/redis/index.js';
import { FakeGateway } from '../../lib/testing/index.js';
import { describeWithRedis, uniquePrefix, type TestRedis } from '../support/redis-server.js';

const WINDOW_MS = 400;
const MARGIN_MS = 100;
const PACE_MS = WINDOW_MS + MARGIN_MS;

function recordingLogger(): GatewayLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (message: string) => lines.push(message);
  return { lines, debug: () => {}, log: push, warn: push, error: push };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithRedis('RedisIdentifyQueue (real redis-server)', (server: TestRedis) => {
  let gateway: FakeGateway;
  const queues: RedisIdentifyQueue[] = [];

  async function startGateway(options: Parameters<typeof FakeGateway.start>[0] = {}) {
    gateway = await FakeGateway.start({ maxConcurrency: 2, ...options });
  }

  /** A queue as one process would have it: its own client, `shardCount` 16. */
  function queue(
    prefix: string,
    options: Partial<RedisIdentifyQueueOptions> = {},
    clientOptions: RedisOptions = {},
  ): RedisIdentifyQueue & { client: Redis } {
    const redis = server.client(clientOptions);
    const created = new RedisIdentifyQueue({
      redis,
      token: FakeGateway.defaultToken,
      keyPrefix: prefix,
      apiUrl: gateway.apiUrl,
      shardCount: 16,
      windowMs: WINDOW_MS,
      identifyMarginMs: MARGIN_MS,
      ...options,
    });
    queues.push(created);
    return Object.assign(created, { client: redis });
  }

  /** Enqueues each shard and records when (performance.now()) it was granted, or its error. */
  function track(target: RedisIdentifyQueue, shardIds: number[], signals: AbortSignal[] = []) {
    const grants = new Map<number, number>();
    const errors = new Map<number, Error>();
    const order: number[] = [];
    const settled = shardIds.map((id, index) =>
      target.enqueue(id, signals[index]).then(
        () => {
          grants.set(id, performance.now());
          order.push(id);
        },
        (error: Error) => errors.set(id, error),
      ),
    );
    return { grants, errors, order, all: Promise.all(settled) };
  }

  const gaps = (times: number[]) =>
    times
      .sort((a, b) => a - b)
      .slice(1)
      .map((t, i) => t - times[i]);

  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
    await gateway?.stop();
    await server.closeClients();
    if (!server.running) await server.start();
  });

  it('two processes share each bucket: grants of one bucket are window + margin apart, buckets in parallel', async () => {
    await startGateway();
    const prefix = uniquePrefix('pace');
    const a = queue(prefix, { maxConcurrency: 2 });
    const b = queue(prefix, { maxConcurrency: 2 });
    // As a Cluster does on up(): the budget is read before any wait.
    await Promise.all([a.checkBudget(4), b.checkBudget(4)]);
    // The first start fences every bucket for one window (see the restart test); wait it out.
    await sleep(PACE_MS + 20);
    const started = performance.now();
    const ta = track(a, [0, 1, 2, 3]);
    const tb = track(b, [4, 5, 6, 7]);
    await Promise.all([ta.all, tb.all]);
    const all = new Map([...ta.grants, ...tb.grants]);
    expect(all.size).toBe(8);
    // Redis times each pace; seen here, a grant's reply may be late by an event-loop turn,
    // which the margin absorbs: the window itself always holds.
    for (const bucket of [0, 1]) {
      const times = [...all].filter(([id]) => id % 2 === bucket).map(([, at]) => at);
      for (const gap of gaps(times)) expect(gap).toBeGreaterThanOrEqual(WINDOW_MS);
    }
    // 4 grants per bucket: 3 paces after the first, not much more.
    expect(performance.now() - started).toBeLessThan(3 * PACE_MS + 400);
    const budget = await a.readBudget();
    expect(budget).toMatchObject({ total: 1_000, remaining: 1_000 - 8, granted: 8 });
  });

  it('FIFO within a process; processes take turns in a bucket, so none starves', async () => {
    await startGateway();
    const prefix = uniquePrefix('fair');
    const a = queue(prefix, { maxConcurrency: 2 });
    const b = queue(prefix, { maxConcurrency: 2 });
    await Promise.all([a.checkBudget(4), b.checkBudget(1)]);
    await sleep(PACE_MS + 20);
    const ta = track(a, [0, 2, 4, 6]);
    await sleep(50);
    const tb = track(b, [8]);
    await Promise.all([ta.all, tb.all]);
    const order = [...ta.grants, ...tb.grants].sort((x, y) => x[1] - y[1]).map(([id]) => id);
    // A's first shard found the bucket free and its second took the next place at once; B came
    // next, so A's third queued behind B: one turn each, whatever the number of shards.
    expect(order).toEqual([0, 2, 8, 4, 6]);
    expect(ta.order).toEqual([0, 2, 4, 6]);
  });

  it('a process stalled between a grant and its IDENTIFY does not shorten the window: it starts again at the send', async () => {
    await startGateway();
    const prefix = uniquePrefix('stall');
    const a = queue(prefix, { maxConcurrency: 1 });
    const b = queue(prefix, { maxConcurrency: 1 });
    await Promise.all([a.checkBudget(1), b.checkBudget(1)]);
    await sleep(PACE_MS + 20);
    let sentAt = 0;
    await a.enqueue(0).then(() => {
      // The event loop is busy for 300 ms before the IDENTIFY goes out.
      const until = performance.now() + 300;
      while (performance.now() < until);
      sentAt = performance.now();
    });
    const t = track(b, [1]);
    await t.all;
    // Timed from the grant alone, the next one would come 200 ms after this IDENTIFY.
    expect((t.grants.get(1) as number) - sentAt).toBeGreaterThanOrEqual(WINDOW_MS);
  });

  it('an aborted wait leaves without using a window or the budget', async () => {
    await startGateway();
    const prefix = uniquePrefix('abort');
    const a = queue(prefix, { maxConcurrency: 1 });
    await a.checkBudget(3);
    await sleep(PACE_MS + 20);
    const aborts = [new AbortController(), new AbortController(), new AbortController()];
    const t = track(
      a,
      [0, 1, 2],
      aborts.map((c) => c.signal),
    );
    await sleep(100);
    aborts[1].abort();
    await t.all;
    expect(t.errors.get(1)).toBeInstanceOf(AbortedError);
    expect(t.order).toEqual([0, 2]);
    const gap = (t.grants.get(2) as number) - (t.grants.get(0) as number);
    expect(gap).toBeGreaterThanOrEqual(WINDOW_MS);
    expect(gap).toBeLessThan(2 * PACE_MS);
    expect(await a.readBudget()).toMatchObject({ granted: 2, remaining: 998 });
  });

  it('the budget: checked before any IDENTIFY, decremented per grant, refused at the floor with IdentifyBudgetError', async () => {
    await startGateway({ sessionStartLimit: { total: 1_000, remaining: 4 } });
    const prefix = uniquePrefix('floor');
    const logger = recordingLogger();
    const a = queue(prefix, { maxConcurrency: 2, budgetFloor: 1, logger });
    await expect(a.checkBudget(4)).rejects.toMatchObject({
      code: 'IDENTIFY_BUDGET_EXHAUSTED',
      needed: 4,
      remaining: 3,
    });
    await expect(a.checkBudget(3)).resolves.toBeNull();
    const b = queue(prefix, { maxConcurrency: 2, budgetFloor: 1, logger });
    await sleep(PACE_MS + 20);
    const ta = track(a, [0, 1]);
    const tb = track(b, [2, 3]);
    await Promise.all([ta.all, tb.all]);
    const granted = [...ta.grants.keys(), ...tb.grants.keys()];
    const refused = [...ta.errors, ...tb.errors];
    expect(granted).toHaveLength(3);
    expect(refused).toHaveLength(1);
    expect(refused[0][1]).toBeInstanceOf(IdentifyBudgetError);
    expect(await a.readBudget()).toMatchObject({ remaining: 1, granted: 3 });
    // Read once for both processes.
    expect(gateway.record.http.filter((r) => r.path.endsWith('/gateway/bot'))).toHaveLength(1);
    expect(logger.lines.some((line) => line.startsWith('Identify budget at its floor'))).toBe(true);
  });

  it("policy 'wait': holds the shard until the reset, then reads the new budget and grants", async () => {
    await startGateway({ sessionStartLimit: { total: 5, remaining: 1, resetAfterMs: 1_500 } });
    const prefix = uniquePrefix('reset');
    const a = queue(prefix, { maxConcurrency: 2, budgetFloor: 1, onBudgetExhausted: 'wait' });
    const resetAt = await a.checkBudget(1);
    expect(resetAt).not.toBeNull();
    expect((resetAt as number) - Date.now()).toBeGreaterThan(1_000);
    const started = performance.now();
    const t = track(a, [0]);
    await sleep(400);
    expect(t.grants.size).toBe(0);
    expect(a.waitingForBudgetResetAt).not.toBeNull();
    expect(a.eta(0)).toBeGreaterThan(500);
    await t.all;
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(await a.readBudget()).toMatchObject({ total: 5, remaining: 4, granted: 1 });
    expect(gateway.record.http.filter((r) => r.path.endsWith('/gateway/bot'))).toHaveLength(2);
  });

  it('a reset_after longer than the longest Node timer (40 days) is waited for, not fired at once', async () => {
    const days40 = 40 * 86_400_000;
    await startGateway({ sessionStartLimit: { total: 5, remaining: 1, resetAfterMs: days40 } });
    const prefix = uniquePrefix('long');
    const a = queue(prefix, { maxConcurrency: 2, budgetFloor: 1, onBudgetExhausted: 'wait' });
    const controller = new AbortController();
    const t = track(a, [0], [controller.signal]);
    await sleep(500);
    expect(t.grants.size).toBe(0);
    expect(t.errors.size).toBe(0);
    expect((a.waitingForBudgetResetAt as number) - Date.now()).toBeGreaterThan(days40 - 60_000);
    expect(await a.client.pttl(a.keys.budget)).toBeGreaterThan(days40 - 60_000);
    // One GET /gateway/bot: the budget key did not expire early.
    expect(gateway.record.http.filter((r) => r.path.endsWith('/gateway/bot'))).toHaveLength(1);
    controller.abort();
    await t.all;
    expect(t.errors.get(0)).toBeInstanceOf(AbortedError);
  });

  it('max_concurrency: a process that disagrees with the stored value is refused; one without it takes the stored value', async () => {
    await startGateway({ maxConcurrency: 3 });
    const prefix = uniquePrefix('mc');
    const first = queue(prefix);
    await first.prepare();
    // Nothing stored yet: GET /gateway/bot's max_concurrency.
    expect(first.maxConcurrency).toBe(3);
    const other = queue(prefix, { maxConcurrency: 4 });
    const refused = await other.prepare().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).issues[0]).toMatchObject({ path: 'maxConcurrency' });
    expect((refused as Error).message).toMatch(/is 4 in this process but 3 in Redis/);
    const agreeing = queue(prefix);
    await agreeing.prepare();
    expect(agreeing.maxConcurrency).toBe(3);
  });

  it('a process that crashed while waiting does not block the bucket: its place lapses', async () => {
    await startGateway();
    const prefix = uniquePrefix('crash');
    const crashed = queue(prefix, { maxConcurrency: 1 });
    const alive = queue(prefix, { maxConcurrency: 1 });
    await Promise.all([crashed.checkBudget(2), alive.checkBudget(1)]);
    await sleep(PACE_MS + 20);
    track(crashed, [0, 1]);
    await sleep(50);
    // The crashed process holds the first place in line for its second shard, then vanishes.
    crashed.client.disconnect();
    const started = performance.now();
    const t = track(alive, [2]);
    await t.all;
    expect(t.grants.size).toBe(1);
    // At most the lease (2 paces) after the crash, plus a window.
    expect(performance.now() - started).toBeLessThan(3 * PACE_MS + 500);
  });

  it('after a Redis restart: no IDENTIFY for a full window + margin, and the budget is re-read and logged', async () => {
    await startGateway();
    const prefix = uniquePrefix('restart');
    const logger = recordingLogger();
    const a = queue(prefix, { maxConcurrency: 2, logger });
    await a.checkBudget(1);
    await sleep(PACE_MS + 20);
    await track(a, [0]).all;
    await sleep(PACE_MS + 20);
    await server.restart();
    const restarted = performance.now();
    const t = track(a, [0, 1]);
    await t.all;
    for (const at of t.grants.values()) {
      expect(at - restarted).toBeGreaterThanOrEqual(PACE_MS);
    }
    expect(logger.lines.some((l) => l.startsWith('Redis lost the identify state'))).toBe(true);
    expect(logger.lines.some((l) => l.startsWith('Redis lost the identify budget'))).toBe(true);
    expect(gateway.record.http.filter((r) => r.path.endsWith('/gateway/bot'))).toHaveLength(2);
    expect(await a.readBudget()).toMatchObject({ granted: 2 });
  });

  it('while Redis is unreachable shards keep waiting (logged once), and are granted once it is back', async () => {
    await startGateway();
    const prefix = uniquePrefix('down');
    const logger = recordingLogger();
    // Commands fail after one reconnection attempt instead of waiting for Redis.
    const a = queue(prefix, { maxConcurrency: 2, logger }, { maxRetriesPerRequest: 1 });
    await a.checkBudget(2);
    await server.stop();
    const t = track(a, [0, 1]);
    await sleep(1_500);
    expect(t.grants.size + t.errors.size).toBe(0);
    await server.start();
    await t.all;
    expect(t.grants.size).toBe(2);
    expect(logger.lines.filter((l) => l.includes('keep waiting and retry'))).toHaveLength(1);
    expect(logger.lines.some((l) => l.startsWith('Identify queue: Redis answers again'))).toBe(
      true,
    );
  });

  it('an outage is logged also when the client holds commands in its offline queue (maxRetriesPerRequest: null)', async () => {
    await startGateway();
    const logger = recordingLogger();
    // As many apps configure ioredis (for example for BullMQ): a command waits for the
    // reconnection for ever instead of failing, so no error ever reaches the queue.
    const a = queue(
      uniquePrefix('offline-queue'),
      { maxConcurrency: 2, logger },
      { maxRetriesPerRequest: null },
    );
    await a.checkBudget(2);
    await server.stop();
    const t = track(a, [0]);
    const deadline = Date.now() + 15_000;
    while (!logger.lines.some((l) => l.includes('Redis unreachable')) && Date.now() < deadline) {
      await sleep(100);
    }
    const warning = logger.lines.filter((l) => l.includes('Redis unreachable'));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatch(
      /^Identify queue: Redis unreachable \(the client is (connecting|reconnecting) after 5000 ms\); 1 shard\(s\) keep waiting/,
    );
    expect(t.grants.size + t.errors.size).toBe(0);
    await server.start();
    await t.all;
    expect(t.grants.size).toBe(1);
    expect(logger.lines.some((l) => l.startsWith('Identify queue: Redis answers again'))).toBe(
      true,
    );
  });

  it('an outage at start-up (prepare, before any shard waits) is logged as well, and its end', async () => {
    await startGateway();
    const logger = recordingLogger();
    const a = queue(
      uniquePrefix('startup-outage'),
      { maxConcurrency: 2, logger },
      { maxRetriesPerRequest: null },
    );
    await server.stop();
    let prepared = false;
    const preparing = a.prepare(16).then(() => (prepared = true));
    const deadline = Date.now() + 15_000;
    while (!logger.lines.some((l) => l.includes('Redis unreachable')) && Date.now() < deadline) {
      await sleep(100);
    }
    expect(logger.lines.filter((l) => l.includes('Redis unreachable'))).toHaveLength(1);
    expect(prepared).toBe(false);
    await server.start();
    await preparing;
    await a.checkBudget(2);
    expect(logger.lines.some((l) => l.startsWith('Identify queue: Redis answers again'))).toBe(
      true,
    );
  });

  it('progress: pendingCount and an ETA that counts the shards ahead', async () => {
    await startGateway();
    const prefix = uniquePrefix('eta');
    const a = queue(prefix, { maxConcurrency: 1 });
    await a.checkBudget(3);
    await sleep(PACE_MS + 20);
    const t = track(a, [0, 1, 2]);
    await sleep(100);
    expect(a.pendingCount).toBe(2);
    expect(a.eta(1)).toBeGreaterThan(PACE_MS - 150);
    expect(a.eta(1)).toBeLessThanOrEqual(PACE_MS);
    expect(a.eta(2)).toBeGreaterThan(2 * PACE_MS - 150);
    expect(Math.abs(a.eta() - a.eta(2))).toBeLessThan(5);
    await t.all;
    expect(a.pendingCount).toBe(0);
  });

  it('bad options fail at construction, listing every problem', () => {
    const error = (() => {
      try {
        new RedisIdentifyQueue({
          redis: {} as Redis,
          token: '',
          windowMs: -1,
          budgetFloor: 1.5,
          keyPrefix: 'has space',
        });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path).sort()).toEqual([
      'budgetFloor',
      'keyPrefix',
      'redis',
      'token',
      'windowMs',
    ]);
  });
});
