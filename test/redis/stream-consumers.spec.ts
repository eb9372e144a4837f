import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { EventType, GatewayModule, OnGatewayEvent } from '../../lib/nest/index.js';
import type { GatewayLogger } from '../../lib/gateway/index.js';
import { RedisEventConsumer, RedisKeys, type GatewayProcessReport } from '../../lib/redis/index.js';
import { FakeGateway, FakeGatewayProcess } from '../../lib/testing/index.js';
import { describeWithRedis, uniquePrefix, type TestRedis } from '../support/redis-server.js';
import { ConsumerChild } from './support/consumer-child.js';
import { GatewayChild } from './support/gateway-child.js';
import { recordKey } from './support/record-event.js';

/**
 * Consumers reading what one gateway process (a Node process of its own) publishes, with one
 * redis-server and one FakeGateway process: consumer processes (Nest apps in consumer mode, or
 * a plain RedisEventConsumer), and a Nest app in the test's process for the Redis restart.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SHARDS = 4;
/** Two guilds per shard: `(id >> 22) % 4` routes guild k to shard k % 4. */
const GUILDS = Array.from({ length: 2 * SHARDS }, (_, k) => String(BigInt(1_000 + k) << 22n));

jest.setTimeout(240_000);

describeWithRedis(
  'Consumer processes on the Redis event streams (real processes)',
  (server: TestRedis) => {
    let gateway: FakeGatewayProcess;
    let prefix: string;
    let dir: string;
    const gateways: GatewayChild[] = [];
    const consumers: ConsumerChild[] = [];
    const apps: INestApplicationContext[] = [];

    beforeEach(async () => {
      prefix = uniquePrefix('consumers');
      dir = mkdtempSync(join(tmpdir(), 'stream-consumers-'));
      gateway = await FakeGatewayProcess.start({ shards: SHARDS, maxConcurrency: SHARDS });
    });

    afterEach(async () => {
      await Promise.all(consumers.splice(0).map((c) => c.kill()));
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await Promise.all(gateways.splice(0).map((g) => g.kill()));
      await gateway?.stop();
      await server.closeClients();
      if (!server.running) await server.start();
      rmSync(dir, { recursive: true, force: true });
    });

    const keys = () => RedisKeys.of({ token: FakeGateway.defaultToken, keyPrefix: prefix });

    async function startGatewayProcess(): Promise<GatewayChild> {
      const child = new GatewayChild({
        gatewayUrl: gateway.url,
        apiUrl: gateway.apiUrl,
        token: FakeGateway.defaultToken,
        redisPort: server.port,
        keyPrefix: prefix,
        shards: { from: 0, to: SHARDS - 1, shardCount: SHARDS },
        maxConcurrency: SHARDS,
        windowMs: 1_000,
        identifyMarginMs: 100,
        saveIntervalMs: 500,
        publishAs: 'gateway-a',
      });
      gateways.push(child);
      await child.ready();
      return child;
    }

    /** A consumer process: a plain RedisEventConsumer, or with `nest` a Nest app in consumer mode. */
    function startConsumer(
      group: string,
      name: string,
      handlerDelayMs = 0,
      nest = false,
    ): ConsumerChild {
      const child = new ConsumerChild(
        {
          redisPort: server.port,
          keyPrefix: prefix,
          token: FakeGateway.defaultToken,
          group,
          name,
          shardCount: SHARDS,
          leaseMs: 1_500,
          handlerDelayMs,
        },
        nest ? 'test/redis/support/consumer-app-process.ts' : undefined,
      );
      consumers.push(child);
      return child;
    }

    /** Sends `count` MESSAGE_CREATE round-robin over the guilds; contents `m-<n>`. */
    async function send(from: number, count: number, pauseMs = 2): Promise<void> {
      for (let n = from; n < from + count; n++) {
        const guildId = GUILDS[n % GUILDS.length] as string;
        await gateway.gateway('dispatch', 'MESSAGE_CREATE', {
          id: String(BigInt(1_000_000 + n) << 22n),
          channel_id: guildId,
          guild_id: guildId,
          author: { id: '42', username: 'someone', discriminator: '0', avatar: null },
          content: `m-${n}`,
          timestamp: new Date().toISOString(),
        });
        if (pauseMs > 0) await sleep(pauseMs);
      }
    }

    const record = (group: string, what: string) => recordKey({ keyPrefix: prefix, group }, what);

    /**
     * A Nest app in this process, in consumer mode (group A, consumer a1, all shards), with one
     * MESSAGE_CREATE handler `onMessage`; resolves once every shard is reported Active.
     */
    async function inProcessConsumer(
      onMessage: (data: { content: string }) => unknown,
      logger?: GatewayLogger,
    ): Promise<RedisEventConsumer> {
      const source = new RedisEventConsumer({
        redis: server.client(),
        token: FakeGateway.defaultToken,
        keyPrefix: prefix,
        group: 'A',
        consumerName: 'a1',
        shardCount: SHARDS,
        leaseMs: 1_500,
        logger,
      });
      @Injectable()
      class Handler {
        @OnGatewayEvent(EventType.MessageCreate)
        onMessage(data: { content: string }): unknown {
          return onMessage(data);
        }
      }
      @Module({
        imports: [GatewayModule.forConsumer({ source, logLevel: 'warn' })],
        providers: [Handler],
      })
      class App {}
      apps.push(
        await NestFactory.createApplicationContext(App, { logger: false, abortOnError: false }),
      );
      await source.waitUntilReady();
      return source;
    }

    async function waitRecorded(redis: Redis, group: string, count: number, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while ((await redis.hlen(record(group, 'recorded'))) < count) {
        if (Date.now() > deadline) {
          throw new Error(
            `group ${group}: ${await redis.hlen(record(group, 'recorded'))} of ${count} recorded; ` +
              `stream lengths ${await Promise.all(Array.from({ length: SHARDS }, (_, id) => redis.xlen(keys().events(SHARDS, id))))}`,
          );
        }
        await sleep(200);
      }
    }

    async function expectOrderPerGuild(redis: Redis, group: string, total: number) {
      for (let k = 0; k < GUILDS.length; k++) {
        const expected = Array.from({ length: total }, (_, n) => n)
          .filter((n) => n % GUILDS.length === k)
          .map((n) => `m-${n}`);
        expect(await redis.lrange(record(group, `order:${GUILDS[k]}`), 0, -1)).toEqual(expected);
      }
    }

    it('across groups: three consumer processes in group A and one in group B, each a Nest app in consumer mode; every dispatch handled in each group, exactly once per group by entry id, per-guild order kept, shards spread fairly, the interceptor around every call', async () => {
      await startGatewayProcess();
      const a = ['a1', 'a2', 'a3'].map((name) => startConsumer('A', name, 0, true));
      const b = startConsumer('B', 'b1', 0, true);
      await Promise.all([...a, b].map((consumer) => consumer.ready()));
      const redis = server.client();
      await waitHolders(
        redis,
        'A',
        (holders) =>
          holders.every((h) => h !== null) &&
          countsOf(holders, ['a1', 'a2', 'a3']).every((n) => n > 0),
      );
      const total = 400;
      await send(0, total);
      await waitRecorded(redis, 'A', total);
      await waitRecorded(redis, 'B', total);
      await sleep(500);
      for (const group of ['A', 'B']) {
        const calls = await redis.lrange(record(group, 'calls'), 0, -1);
        // No consumer died: each entry ran once in its group.
        expect(calls).toHaveLength(total);
        expect(new Set(calls).size).toBe(total);
        await expectOrderPerGuild(redis, group, total);
        // The handler's interceptor wrapped every call, in each consumer process.
        expect(Number(await redis.get(record(group, 'intercepted')))).toBe(total);
        // Everything acknowledged.
        for (let shardId = 0; shardId < SHARDS; shardId++) {
          const pending = (await redis.xpending(keys().events(SHARDS, shardId), group)) as [number];
          expect(pending[0]).toBe(0);
        }
      }
      // Group A's shards are spread fairly over its three consumers: 1 or 2 each, none idle.
      const holders = await leaseHolders(redis, 'A');
      expect(countsOf(holders, ['a1', 'a2', 'a3']).sort()).toEqual([1, 1, 2]);
      const handledBy = new Set(Object.values(await redis.hgetall(record('A', 'recorded'))));
      expect(handledBy).toEqual(new Set(['a1', 'a2', 'a3']));
      for (const consumer of [...a, b]) {
        expect([...consumer.logs('warn'), ...consumer.logs('error')]).toEqual([]);
      }
    });

    /** The holder of each shard's lease in `group`, by shard id. */
    const leaseHolders = (redis: Redis, group: string) =>
      Promise.all(
        Array.from({ length: SHARDS }, (_, id) => redis.get(keys().lease(SHARDS, group, id))),
      );

    /** Waits until `check` accepts the lease holders; returns them (throws with the last seen after 20 s). */
    async function waitHolders(
      redis: Redis,
      group: string,
      check: (holders: (string | null)[]) => boolean,
    ): Promise<(string | null)[]> {
      const deadline = Date.now() + 20_000;
      let holders = await leaseHolders(redis, group);
      while (!check(holders)) {
        if (Date.now() > deadline)
          throw new Error(`leases of group ${group}: ${holders.join(', ')}`);
        await sleep(100);
        holders = await leaseHolders(redis, group);
      }
      return holders;
    }

    const countsOf = (holders: (string | null)[], names: string[]) =>
      names.map((name) => holders.filter((h) => h === name).length);

    it('spreads 4 shards fairly over 3 consumers (1 or 2 each, none idle); a 4th joining gets one, handed over at an entry boundary with per-guild order kept and nothing run twice', async () => {
      await startGatewayProcess();
      const names = ['a1', 'a2', 'a3'];
      const first = names.map((name) => startConsumer('A', name, 5));
      await Promise.all(first.map((c) => c.ready()));
      const redis = server.client();
      const spread = await waitHolders(
        redis,
        'A',
        (holders) =>
          countsOf(holders, names).every((n) => n === 1 || n === 2) &&
          holders.every((h) => h !== null),
      );
      // The spread holds: a second look one lease later finds the same holders.
      await sleep(1_500);
      expect(await leaseHolders(redis, 'A')).toEqual(spread);
      // a4 joins while the dispatches flow; more follow once it holds its shard.
      const total = 500;
      const sending = send(0, 300, 8);
      const fourth = startConsumer('A', 'a4', 5);
      await fourth.ready();
      await waitHolders(redis, 'A', (holders) =>
        countsOf(holders, [...names, 'a4']).every((n) => n === 1),
      );
      await sending;
      await send(300, total - 300, 2);
      await waitRecorded(redis, 'A', total);
      await expectOrderPerGuild(redis, 'A', total);
      // A clean hand-over: every entry ran once, and nothing is left pending.
      const calls = await redis.lrange(record('A', 'calls'), 0, -1);
      expect(calls).toHaveLength(total);
      for (let shardId = 0; shardId < SHARDS; shardId++) {
        const pending = (await redis.xpending(keys().events(SHARDS, shardId), 'A')) as [number];
        expect(pending[0]).toBe(0);
      }
      // a4's shard changed hands: its entries were recorded by a former holder, then by a4.
      const taken = (await leaseHolders(redis, 'A')).indexOf('a4');
      const recordedBy = Object.entries(await redis.hgetall(record('A', 'recorded')))
        .filter(([id]) => id.startsWith(`${taken}:`))
        .map(([, name]) => name);
      expect(recordedBy).toContain('a4');
      expect(recordedBy.some((name) => name !== 'a4')).toBe(true);
      // a4 says which shard it reads.
      expect(fourth.logs('log')).toContainEqual(
        expect.stringMatching(/^Consumer a4 of group A reads shards \d of 4$/),
      );
      for (const consumer of [...first, fourth]) expect(consumer.logs('error')).toEqual([]);
    });

    it('a consumer SIGKILLed mid-stream loses nothing: its pending entries are reclaimed and its shards move to the other consumer', async () => {
      await startGatewayProcess();
      const first = startConsumer('A', 'a1', 20);
      const second = startConsumer('A', 'a2', 20);
      await Promise.all([first.ready(), second.ready()]);
      await sleep(2_000);
      const redis = server.client();
      const total = 300;
      const sending = send(0, total, 5);
      await sleep(800);
      const heldByFirst = (
        await Promise.all(
          Array.from({ length: SHARDS }, (_, id) => redis.get(keys().lease(SHARDS, 'A', id))),
        )
      ).filter((h) => h === 'a1').length;
      expect(heldByFirst).toBeGreaterThan(0);
      await first.kill();
      await sending;
      await waitRecorded(redis, 'A', total);
      // Every shard is now read by the survivor.
      const holders = await Promise.all(
        Array.from({ length: SHARDS }, (_, id) => redis.get(keys().lease(SHARDS, 'A', id))),
      );
      expect(holders).toEqual(Array.from({ length: SHARDS }, () => 'a2'));
      // Nothing pending anywhere, and what a1 left pending was reclaimed.
      for (let shardId = 0; shardId < SHARDS; shardId++) {
        const pending = (await redis.xpending(keys().events(SHARDS, shardId), 'A')) as [number];
        expect(pending[0]).toBe(0);
      }
      expect(second.logs('log').some((l) => /reclaimed \d+ pending entr/.test(l))).toBe(true);
      const calls = await redis.lrange(record('A', 'calls'), 0, -1);
      expect(new Set(calls).size).toBe(total);
      // Per-guild order holds across the crash: a2 ran what a1 left pending before anything
      // newer (the order lists record each entry's first handling).
      await expectOrderPerGuild(redis, 'A', total);
      expect(second.logs('error')).toEqual([]);
    });

    it("one slow handler holds up its own shard only: another shard's dispatch is handled at once, and the slow shard's next one waits its turn", async () => {
      await startGatewayProcess();
      const handled: { content: string; at: number }[] = [];
      const source = await inProcessConsumer(async (data) => {
        if (data.content === 'm-0') await sleep(4_000);
        handled.push({ content: data.content, at: Date.now() });
      });
      expect(source.shardIds).toEqual([0, 1, 2, 3]);
      // m-0 (slow) and m-4 go to guild 0 on shard 0; m-1 to guild 1 on shard 1.
      const sentAt = Date.now();
      await send(0, 2, 200);
      await send(4, 1, 0);
      const deadline = Date.now() + 20_000;
      while (handled.length < 3 && Date.now() < deadline) await sleep(50);
      expect(handled.map((h) => h.content)).toEqual(['m-1', 'm-0', 'm-4']);
      // m-1 did not wait for m-0's 4 s: handled well before m-0 finished.
      expect(handled[0]!.at - sentAt).toBeLessThan(2_500);
      expect(handled[1]!.at - sentAt).toBeGreaterThanOrEqual(4_000);
    });

    it('Redis loses its data while every shard is busy (groups, leases and pending lists gone, the leases lost before any read meets NOGROUP): the consumer creates the group again on every stream, takes its shards back and handles what follows', async () => {
      await startGatewayProcess();
      const handled: string[] = [];
      const warnings: string[] = [];
      const source = await inProcessConsumer(
        async (data) => {
          // The first dispatch of each shard keeps it busy: no read meets the loss.
          if (['m-0', 'm-1', 'm-2', 'm-3'].includes(data.content)) await sleep(3_000);
          handled.push(data.content);
        },
        {
          debug: () => {},
          log: () => {},
          warn: (m) => warnings.push(m),
          error: (m) => warnings.push(`error ${m}`),
        },
      );
      expect(source.shardIds).toEqual([0, 1, 2, 3]);
      await send(0, 4, 0);
      await sleep(1_000);
      await server.client().flushall();
      const deadline = Date.now() + 30_000;
      while (handled.length < 4 && Date.now() < deadline) await sleep(100);
      await send(100, 8, 0);
      const after = Array.from({ length: 8 }, (_, n) => `m-${100 + n}`);
      while (!after.every((m) => handled.includes(m)) && Date.now() < deadline) await sleep(100);
      expect(handled.filter((m) => after.includes(m)).sort()).toEqual(after.sort());
      expect(source.shardIds).toEqual([0, 1, 2, 3]);
      expect(warnings.some((w) => /lost its lease/.test(w))).toBe(true);
      expect(warnings.filter((w) => /Group A is missing in Redis/.test(w)).length).toBeGreaterThan(
        0,
      );
      expect(warnings.filter((w) => w.startsWith('error'))).toEqual([]);
    });

    it('a gateway process that dies is noticed: the consumer warns once per shard that no process reports it, and logs when another process takes it', async () => {
      const first = await startGatewayProcess();
      const lines: string[] = [];
      const logger = {
        debug: () => {},
        log: (m: string) => lines.push(`log ${m}`),
        warn: (m: string) => lines.push(`warn ${m}`),
        error: (m: string) => lines.push(`error ${m}`),
      };
      await inProcessConsumer(() => undefined, logger);
      await first.kill('SIGKILL');
      const unreported = () => lines.filter((l) => /is reported by no gateway process/.test(l));
      const deadline = Date.now() + 20_000;
      while (unreported().length < SHARDS && Date.now() < deadline) await sleep(100);
      expect(unreported().sort()).toEqual(
        Array.from(
          { length: SHARDS },
          (_, id) =>
            `warn Shard ${id} is reported by no gateway process any more (gateway-a stopped reporting it); its dispatches stop until a gateway process takes it`,
        ),
      );
      // Another process takes the shards over (it resumes their sessions from Redis).
      await startGatewayProcess();
      while (
        lines.filter((l) => /is reported again/.test(l)).length < SHARDS &&
        Date.now() < deadline + 20_000
      )
        await sleep(100);
      expect(lines.filter((l) => /is reported again/.test(l))).toHaveLength(SHARDS);
      await sleep(1_000);
      // Once per shard, not once per round.
      expect(unreported()).toHaveLength(SHARDS);
      expect(lines.filter((l) => l.startsWith('error'))).toEqual([]);
    });

    it('a Redis restart mid-run: the gateway shards stay up, publishing and consuming resume by themselves, what was lost is counted and reported, nothing crashes', async () => {
      const child = await startGatewayProcess();
      const handled: string[] = [];
      const warnings: string[] = [];
      const source = await inProcessConsumer((data) => void handled.push(data.content), {
        debug: () => {},
        log: () => {},
        warn: (m) => warnings.push(m),
        error: (m) => warnings.push(`error ${m}`),
      });
      const connectionsBefore = (await gateway.record('connections')).length;
      await send(0, 100);
      const waitHandled = async (content: string) => {
        const deadline = Date.now() + 30_000;
        while (!handled.includes(content) && Date.now() < deadline) await sleep(100);
        expect(handled).toContain(content);
      };
      await waitHandled('m-99');
      await sleep(500);
      await server.restart(500);
      await sleep(300);
      await send(100, 100);
      await waitHandled('m-199');
      // Gateway shards stayed up: no new connection, every shard Active, no error logged.
      expect((await gateway.record('connections')).length).toBe(connectionsBefore);
      expect((await child.info()).every((s) => s.state === 'ACTIVE')).toBe(true);
      expect(child.logs('error')).toEqual([]);
      expect(child.alive).toBe(true);
      // Every dispatch is handled once, except those Redis lost with its data: the consumer
      // counts them from the gap in the sequences, and the publisher counts what it dropped.
      const missing = Array.from({ length: 200 }, (_, n) => `m-${n}`).filter(
        (m) => !handled.includes(m),
      );
      expect(new Set(handled).size).toBe(handled.length);
      const redis = server.client();
      const report = JSON.parse(
        (await redis.get(keys().process(SHARDS, 'gateway-a'))) as string,
      ) as GatewayProcessReport;
      expect(source.lostAfterRedisRestart + report.stats.dropped).toBeGreaterThanOrEqual(
        missing.length,
      );
      if (missing.length > 0)
        expect(warnings.some((w) => /Redis lost its data/.test(w))).toBe(true);
      expect(warnings.some((w) => /Group A is missing in Redis/.test(w))).toBe(true);
      expect(warnings.filter((w) => w.startsWith('error'))).toEqual([]);
    });
  },
);
