import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { RedisKeys } from '../../lib/redis/index.js';
import {
  FakeGateway,
  FakeGatewayProcess,
  type IdentifyRecord,
  type RemoteGatewayOptions,
} from '../../lib/testing/index.js';
import { describeWithRedis, uniquePrefix, type TestRedis } from '../support/redis-server.js';
import { GatewayChild } from './support/gateway-child.js';
import type { GatewayProcessConfig } from './support/gateway-process.js';

/**
 * Real gateway processes (Cluster + RedisIdentifyQueue + RedisSessionStore, each a Node process
 * with its own Redis connection) against one FakeGateway, itself in its own process, and one
 * redis-server. The fake judges every IDENTIFY at arrival on its own clock, with no tolerance,
 * after 2-42 ms of transit jitter. The window is scaled down to 1 s. The margin is 500 ms, not
 * the default 250: the fake stamps an IDENTIFY when its own event loop reads it, and on a
 * loaded shared machine (CI) that loop, busy sending another shard's READY, was seen reading
 * one IDENTIFY over 250 ms later than the next one of its bucket.
 */
const WINDOW_MS = 1_000;
const MARGIN_MS = 500;
const NETWORK = { inbound: { delayMs: 2, jitterMs: 40 }, outbound: { delayMs: 2, jitterMs: 10 } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The fake's clock reads epoch ms on a monotonic scale; this one does too. */
const now = () => performance.timeOrigin + performance.now();

/** A guild id that routes to `shardId` of `shardCount` (`(id >> 22) % shardCount`). */
const guildOf = (shardId: number, shardCount: number) =>
  String(BigInt(shardCount * 1_000 + shardId) << 22n);

jest.setTimeout(180_000);

describeWithRedis(
  'Gateway processes sharing one bot through Redis (real processes)',
  (server: TestRedis) => {
    let gateway: FakeGatewayProcess;
    let prefix: string;
    let dir: string;
    const children: GatewayChild[] = [];

    beforeEach(() => {
      prefix = uniquePrefix('processes');
      dir = mkdtempSync(join(tmpdir(), 'gateway-processes-'));
    });

    afterEach(async () => {
      await Promise.all(children.splice(0).map((child) => child.kill()));
      await gateway?.stop();
      await server.closeClients();
      if (!server.running) await server.start();
      rmSync(dir, { recursive: true, force: true });
    });

    async function startGateway(options: RemoteGatewayOptions = {}) {
      gateway = await FakeGatewayProcess.start({
        shards: 8,
        maxConcurrency: 2,
        identifyWindowMs: WINDOW_MS,
        network: NETWORK,
        ...options,
      });
    }

    function spawn(
      name: string,
      shards: GatewayProcessConfig['shards'],
      options: Partial<GatewayProcessConfig> = {},
    ): GatewayChild {
      const child = new GatewayChild({
        gatewayUrl: gateway.url,
        apiUrl: gateway.apiUrl,
        token: FakeGateway.defaultToken,
        redisPort: server.port,
        keyPrefix: prefix,
        shards,
        maxConcurrency: 2,
        windowMs: WINDOW_MS,
        identifyMarginMs: MARGIN_MS,
        deliveredFile: join(dir, `${name}.tsv`),
        ...options,
      });
      children.push(child);
      return child;
    }

    const keys = () => RedisKeys.of({ token: FakeGateway.defaultToken, keyPrefix: prefix });

    async function budget(redis: Redis): Promise<{ remaining: number; granted: number }> {
      const stored = await redis.hgetall(keys().budget);
      return { remaining: Number(stored.remaining), granted: Number(stored.granted) };
    }

    async function gatewayBotReads(): Promise<number> {
      const http = await gateway.record('http');
      return http.filter((request) => request.path.endsWith('/gateway/bot')).length;
    }

    /** Arrival gaps (the fake's clock) between consecutive accepted IDENTIFYs of each bucket. */
    function bucketGaps(identifies: readonly IdentifyRecord[]): number[] {
      const byBucket = new Map<number, number[]>();
      for (const identify of identifies) {
        if (identify.outcome !== 'accepted') continue;
        byBucket.set(identify.bucket, [...(byBucket.get(identify.bucket) ?? []), identify.at]);
      }
      return [...byBucket.values()].flatMap((times) =>
        times
          .sort((a, b) => a - b)
          .slice(1)
          .map((at, i) => at - times[i]),
      );
    }

    it('two processes competing for the same buckets: no bucket violation at the server, and the budget decrements equal the IDENTIFYs', async () => {
      await startGateway({ sessionStartLimit: { total: 1_000, remaining: 900 } });
      const a = spawn('a', { from: 0, to: 3, shardCount: 8 });
      const b = spawn('b', { from: 4, to: 7, shardCount: 8 });
      await Promise.all([a.ready(), b.ready()]);
      const identifies = await gateway.record('identifies');
      expect(identifies.map((i) => i.shardId).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(identifies.every((i) => i.outcome === 'accepted')).toBe(true);
      expect(await gateway.record('violations')).toEqual([]);
      const gaps = bucketGaps(identifies);
      expect(gaps).toHaveLength(6);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(WINDOW_MS);
      // Redis's budget and the fake's own count agree with the IDENTIFYs the fake saw.
      expect(await budget(server.client())).toEqual({ remaining: 900 - 8, granted: 8 });
      const reply = await fetch(`${gateway.apiUrl}/gateway/bot`, {
        headers: { Authorization: `Bot ${FakeGateway.defaultToken}` },
      });
      const limit = (await reply.json()) as { session_start_limit: { remaining: number } };
      expect(limit.session_start_limit.remaining).toBe(900 - 8);
    });

    it('split by buckets: both processes start, and read and spend one shared budget', async () => {
      await startGateway({ sessionStartLimit: { total: 1_000, remaining: 500 } });
      const a = spawn('a', { buckets: [0], shardCount: 8, maxConcurrency: 2 });
      const b = spawn('b', { buckets: [1], shardCount: 8, maxConcurrency: 2 });
      await Promise.all([a.ready(), b.ready()]);
      expect((await a.info()).map((s) => s.id)).toEqual([0, 2, 4, 6]);
      expect((await b.info()).map((s) => s.id)).toEqual([1, 3, 5, 7]);
      const identifies = await gateway.record('identifies');
      expect(identifies.filter((i) => i.outcome === 'accepted')).toHaveLength(8);
      expect(await gateway.record('violations')).toEqual([]);
      // One GET /gateway/bot for both: the budget lives in Redis.
      expect(await gatewayBotReads()).toBe(1);
      expect(await budget(server.client())).toEqual({ remaining: 500 - 8, granted: 8 });
    });

    it('a SIGKILLed process: the next one RESUMEs from the Redis session with no IDENTIFY, and no dispatch is lost', async () => {
      await startGateway({ shards: 2 });
      const shards = { from: 0, to: 1, shardCount: 2 } as const;
      const first = spawn('first', shards, { saveIntervalMs: 200 });
      await first.ready();
      let sent = 0;
      let stopped = false;
      const traffic = (async () => {
        while (!stopped) {
          const shardId = sent % 2;
          await gateway.gateway('dispatch', 'MESSAGE_CREATE', {
            id: String(BigInt(1_000_000 + sent) << 22n),
            channel_id: guildOf(shardId, 2),
            guild_id: guildOf(shardId, 2),
            author: { id: '42', username: 'someone', discriminator: '0', avatar: null },
            content: `m-${sent}`,
            timestamp: new Date().toISOString(),
          });
          sent++;
          await sleep(3);
        }
      })();
      let second: GatewayChild;
      try {
        await sleep(1_500);
        await first.kill('SIGKILL');
        const killedAt = sent;
        await sleep(300);
        second = spawn('second', shards, { saveIntervalMs: 200 });
        await second.ready();
        await sleep(300);
        stopped = true;
        await traffic;
        const last = `m-${sent - 1}`;
        await second.waitFor(
          () => (second.delivered().some((d) => d.content === last) ? true : undefined),
          'the last dispatch',
        );
        expect(killedAt).toBeGreaterThan(50);
      } finally {
        stopped = true;
        await traffic;
      }
      // Two IDENTIFYs in all (the first process's); the second process resumed both shards.
      expect(await gateway.record('identifies')).toHaveLength(2);
      const resumes = (await gateway.record('resumes')).filter((r) => r.outcome === 'resumed');
      expect(resumes).toHaveLength(2);
      expect(resumes.every((r) => r.replayed > 0)).toBe(true);

      const before = first.delivered();
      const after = second.delivered();
      const seen = new Set([...before, ...after].map((d) => d.content));
      const missing = Array.from({ length: sent }, (_, i) => `m-${i}`).filter((m) => !seen.has(m));
      expect(missing).toEqual([]);
      // Per shard, the second process's replay starts at or before where the first one stopped.
      for (const shardId of [0, 1]) {
        const sequences = (list: typeof before) =>
          list.filter((d) => d.shardId === shardId).map((d) => d.sequence);
        expect(Math.min(...sequences(after))).toBeLessThanOrEqual(
          Math.max(...sequences(before)) + 1,
        );
      }
      // At least once: what followed the last save was delivered again; no more than that.
      const handled = new Set(before.map((d) => d.content).filter((c) => c !== ''));
      const again = after.filter((d) => handled.has(d.content));
      expect(again.length).toBeGreaterThan(0);
      expect(again.length).toBeLessThan(sent / 2);
    });

    it('a Redis restart while shards are Active: they stay up; one that must identify waits a full window; the budget is re-read and logged', async () => {
      await startGateway({ shards: 4 });
      const child = spawn('a', { from: 0, to: 3, shardCount: 4 }, { saveIntervalMs: 200 });
      await child.ready();
      const connectionsBefore = (await gateway.record('connections')).length;
      await server.restart(300);
      const restartedAt = now();
      await sleep(1_000);
      // Nothing reconnected; the process is alive and every shard Active.
      expect((await gateway.record('connections')).length).toBe(connectionsBefore);
      expect((await child.info()).every((s) => s.state === 'ACTIVE')).toBe(true);
      // The sessions are back in Redis within a save interval.
      expect(await server.client().exists(keys().session(4, 0))).toBe(1);
      // A shard whose session ends must identify: not before one window + margin after the restart.
      await gateway.connection(1, 'close', 4009, 'session timed out');
      const identify = await gateway.waitFor(
        'identifies',
        (list) => list.find((i) => i.shardId === 1 && i.at > restartedAt),
        { timeoutMs: 30_000 },
      );
      expect(identify.outcome).toBe('accepted');
      expect(identify.at - restartedAt).toBeGreaterThanOrEqual(WINDOW_MS + MARGIN_MS);
      await child.waitFor(
        () =>
          child.logs('warn').some((l) => l.startsWith('Redis lost the identify budget'))
            ? true
            : undefined,
        'the budget re-read warning',
      );
      expect(child.logs('warn').some((l) => l.startsWith('Redis lost the identify state'))).toBe(
        true,
      );
      expect(await gatewayBotReads()).toBe(2);
      expect(child.logs('error')).toEqual([]);
      expect(child.alive).toBe(true);
      expect(await gateway.record('violations')).toEqual([]);
    });

    it('budget exhaustion across processes: the process that hits it fails with IdentifyBudgetError, before any IDENTIFY beyond the budget', async () => {
      // 7 left, floor 1: 6 may be spent.
      await startGateway({ sessionStartLimit: { total: 1_000, remaining: 7 } });
      const a = spawn('a', { from: 0, to: 3, shardCount: 8 });
      await a.ready();
      const b = spawn('b', { from: 4, to: 7, shardCount: 8 });
      const outcome = await b.settled();
      // The first process spent 4 (one grant per IDENTIFY the fake saw), leaving 3: 2 above the floor.
      const identifies = await gateway.record('identifies');
      expect({ shards: identifies.map((i) => i.shardId).sort(), logs: a.logs() }).toEqual({
        shards: [0, 1, 2, 3],
        logs: expect.any(Array),
      });
      expect(await budget(server.client())).toEqual({ remaining: 3, granted: 4 });
      expect(outcome).toMatchObject({ type: 'failed', code: 'IDENTIFY_BUDGET_EXHAUSTED' });
      expect(outcome.type === 'failed' && outcome.message).toMatch(
        /4 shard\(s\) must identify but only 2 session start/,
      );
      expect(await gateway.record('identifies')).toHaveLength(4);
    });

    it('budget exhaustion when both processes start at once: exactly the budget is spent, and the refused get IdentifyBudgetError', async () => {
      await startGateway({ sessionStartLimit: { total: 1_000, remaining: 7 } });
      const a = spawn('a', { from: 0, to: 3, shardCount: 8 });
      const b = spawn('b', { from: 4, to: 7, shardCount: 8 });
      const outcomes = await Promise.all([a.settled(), b.settled()]);
      const failed = outcomes.filter((o) => o.type === 'failed');
      expect(failed.length).toBeGreaterThanOrEqual(1);
      for (const failure of failed) {
        expect(failure).toMatchObject({ code: 'IDENTIFY_BUDGET_EXHAUSTED' });
      }
      const identifies = await gateway.record('identifies');
      expect(identifies).toHaveLength(6);
      expect(identifies.every((i) => i.outcome === 'accepted')).toBe(true);
      expect(await gateway.record('violations')).toEqual([]);
      expect(await budget(server.client())).toEqual({ remaining: 1, granted: 6 });
    });
  },
);
