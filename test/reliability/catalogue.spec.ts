/*
 * Bad-input catalogue (issue 6): one test per item. Items already covered elsewhere are listed
 * with the test that covers them; the tests in this file cover the rest. The attacks of the
 * hardening (reconnect storms, oversized sessions, ETF and zstd bombs, foreign resume hosts,
 * hostile REST answers, tampered session files, ...) are test/reliability/hostile.spec.ts, each
 * in a child process of its own.
 *
 * From the server (a logged, typed error; the shard recovers or stops where the protocol says;
 * nothing crashes; nothing already delivered is delivered again):
 *   malformed JSON ........................ test/gateway/shard/bad-frames.spec.ts  'bad-json -> DecodeError, resume'
 *   valid JSON, wrong shape ............... bad-frames.spec.ts  'wrong-shape -> ProtocolError, stay'
 *   unknown op ............................ bad-frames.spec.ts  'unknown-op -> ProtocolError, stay'
 *   dispatch without t .................... bad-frames.spec.ts  'dispatch-without-t -> ProtocolError, stay'
 *   dispatch without s .................... bad-frames.spec.ts  'dispatch-without-s -> ProtocolError, stay' and
 *                                           'GW-GT-5: a dispatch without s -> ProtocolError, still delivered once ...';
 *                                           RATE_LIMITED may lack s (docs/protocol.md section 20): 'docs/protocol.md section 20:
 *                                           RATE_LIMITED without s is accepted silently ...'
 *   s going backwards ..................... bad-frames.spec.ts  'seq-backwards -> ProtocolError, stay'
 *   binary frame, no compression .......... bad-frames.spec.ts  'binary-garbage -> DecodeError, resume' (compression 'none')
 *   invalid UTF-8 (strict) ................ bad-frames.spec.ts  'invalid-utf8 -> DecodeError, resume' and
 *                                           'invalid UTF-8 inside the zlib stream is a DecodeError ...'
 *   corrupted zlib-stream frame ........... bad-frames.spec.ts  'corrupt zlib-stream frame -> DecodeError ...'
 *   decompression bomb (inflated cap) ..... bad-frames.spec.ts  'decompression bomb ...'; here: the bomb is a
 *                                           sequenced dispatch the gateway replays on every RESUME
 *   frame over the size cap ............... bad-frames.spec.ts  'frame over limits.maxFrameBytes ...'; here: replayed
 *   HELLO heartbeat_interval 0 / missing .. bad-frames.spec.ts  'HELLO with heartbeat_interval %s -> ProtocolError, reconnect'
 *   READY without session_id .............. bad-frames.spec.ts  'READY without session_id -> ProtocolError, ...'
 *   RESUMED for a session never started ... bad-frames.spec.ts  'RESUMED for a session never resumed ...' (an identified
 *                                           connection); here: RESUMED in answer to IDENTIFY, before any READY
 *
 * From the user (typed errors that say what and why; config problems all at once):
 *   every invalid option at once .......... test/gateway/config/normalize-shard-options.spec.ts 'lists every problem,
 *                                           nested ones included, in one ConfigError'; normalize-cluster-options.spec.ts
 *                                           'lists every problem at once'; single items (empty token, intents not an
 *                                           integer, ...) in the tables of both; here: through `new Shard` and
 *                                           `new Cluster`, the issue's list in one ConfigError each
 *   send command, bad shape ............... test/gateway/shard/commands.spec.ts (every builder, 'lists every problem at
 *                                           once and never the values'); gotchas.spec.ts GW-GT-19; here: through Cluster
 *   send command over 4096 bytes .......... commands.spec.ts 'serializePayload (GW-ENV-4, GW-GT-15)'; gotchas.spec.ts
 *                                           GW-GT-15; here: Cluster.broadcast
 *   command to an unknown shard ........... test/gateway/cluster/cluster-routing.spec.ts 'command() to a shard the
 *                                           cluster does not run ...'; here: commandForGuild, updatePresence and
 *                                           requestGuildMembers for a shard the cluster does not run
 */
import { jest } from '@jest/globals';
import { Cluster } from '../../lib/gateway/cluster/cluster.js';
import type { ClusterOptions, ShardOptions } from '../../lib/gateway/config/index.js';
import {
  CommandError,
  ConfigError,
  DecodeError,
  PayloadTooLargeError,
  ProtocolError,
  UnknownShardError,
} from '../../lib/gateway/errors/errors.js';
import type { GatewayEvent } from '../../lib/gateway/events/gateway-event.js';
import { Shard } from '../../lib/gateway/shard/shard.js';
import { ShardState } from '../../lib/gateway/shard/shard-state.js';
import { FakeGateway, shardForGuild } from '../../lib/testing/index.js';
import { captureLogger, count, harness, until, type Harness } from '../gateway/shard/helpers.js';

jest.setTimeout(20_000);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const errors = (run: Harness): unknown[] => run.data('SHARD_ERROR').map((d) => d.error);
const sequences = (run: Harness): number[] =>
  run.events.filter((e) => e.sequence !== null).map((e) => e.sequence as number);

describe('bad input from the server: what the other suites leave out', () => {
  it('RESUMED in answer to IDENTIFY (a session never started) -> ProtocolError; not Active; READY timeout, IDENTIFY again', async () => {
    h = await harness({}, { timeouts: { readyMs: 300 } });
    h.gw.nextConnections({ withholdReady: true });
    const connected = h.shard.connect();
    await until(() => h!.gw.record.identifies.length === 1);
    h.gw.connections[0]!.sendRaw('{"op":0,"t":"RESUMED","s":1,"d":{}}');
    await until(() => count(h!.events, 'SHARD_ERROR') === 1);
    expect(errors(h)[0]).toBeInstanceOf(ProtocolError);
    expect(h.logs.lines.some((l) => l.level === 'warn' && /RESUMED/.test(l.message))).toBe(true);
    expect(h.shard.state).toBe(ShardState.Identifying);
    await connected;
    expect(count(h.events, 'SHARD_RESUMED')).toBe(0);
    expect(count(h.events, 'READY')).toBe(1);
    expect(h.gw.record.identifies.map((i) => i.outcome)).toEqual(['accepted', 'accepted']);
  });

  it.each([
    ['maxInflatedBytes', { compression: 'zlib-stream', limits: { maxInflatedBytes: 256 * 1024 } }],
    ['maxFrameBytes', { compression: 'none', limits: { maxFrameBytes: 256 * 1024 } }],
  ] as const)(
    'GW-GT-13: a dispatch over %s that every RESUME replays: DecodeError, then a new session instead of a resume loop; nothing delivered twice',
    async (_cap, options) => {
      h = await harness({}, { ...options, reconnect: { baseDelayMs: 10, maxDelayMs: 50 } });
      await h.shard.connect();
      const conn = await h.gw.waitForConnection(0);
      const guild = h.gw.traffic.guilds[0]!;
      conn.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(guild, 'before'));
      await until(() => count(h!.events, 'MESSAGE_CREATE') === 1);
      conn.sendMalformed('huge', { bytes: 1024 * 1024 });
      await until(() => count(h!.events, 'READY') === 2, 10_000, 'a second READY');
      expect(errors(h)[0]).toBeInstanceOf(DecodeError);
      expect(h.gw.record.identifies).toHaveLength(2);
      // Bounded: a few resumes, not a loop.
      expect(h.gw.record.resumes.length).toBeLessThanOrEqual(5);
      expect(h.shard.state).toBe(ShardState.Active);
      const readySessions = h.data('READY').map((d) => d.session_id);
      expect(new Set(readySessions).size).toBe(2);
      // Within each session the sequence only rises: nothing came twice.
      const seqs = sequences(h);
      const second = seqs.lastIndexOf(1);
      for (const part of [seqs.slice(0, second), seqs.slice(second)])
        for (let i = 1; i < part.length; i++) expect(part[i]).toBeGreaterThan(part[i - 1]!);
    },
  );
});

describe('bad input from the user: one typed error each', () => {
  const marker = 'VALUE-MARKER-c4e1';
  /** The issue's list: every item at once. */
  const invalid = {
    token: `Bot Bot ${marker}`,
    intents: ['Guilds', marker],
    largeThreshold: 251,
    gatewayUrl: `ws://${marker}.example.com`,
    shardSetting: marker,
  };

  it('new Shard(...) with every invalid option at once: one ConfigError naming each path, never a value', () => {
    let error: unknown;
    try {
      new Shard({ ...invalid, shardId: 3, shardCount: 2 } as unknown as ShardOptions);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(new Set(issues.map((i) => i.path))).toEqual(
      new Set(['token', 'intents[1]', 'largeThreshold', 'gatewayUrl', 'shardSetting', 'shardId']),
    );
    expect(JSON.stringify(issues.map((i) => i.rule))).not.toContain(marker);
  });

  it('new Cluster(...) likewise, with an empty token, intents not an integer and a shard range out of bounds', () => {
    let error: unknown;
    try {
      new Cluster({
        ...invalid,
        token: '',
        intents: 1.5,
        shards: { from: 2, to: 5, shardCount: 4 },
      } as unknown as ClusterOptions);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const paths = new Set((error as ConfigError).issues.map((i) => i.path));
    expect(paths).toEqual(
      new Set(['token', 'intents', 'largeThreshold', 'gatewayUrl', 'shardSetting', 'shards.to']),
    );
    expect((error as Error).message).not.toContain(marker);
  });

  describe('commands through a Cluster running shard 0 of 2', () => {
    let gw: FakeGateway;
    let cluster: Cluster;
    const seen: GatewayEvent[] = [];

    beforeAll(async () => {
      gw = await FakeGateway.start({ heartbeatIntervalMs: 1_000, shards: 2, identifyWindowMs: 0 });
      cluster = new Cluster(
        {
          token: FakeGateway.defaultToken,
          intents: ['Guilds'],
          apiUrl: gw.apiUrl,
          gatewayUrl: gw.url,
          compression: 'none',
          shards: { from: 0, to: 0, shardCount: 2 },
        },
        { logger: captureLogger() },
      );
      cluster.addListener((event) => seen.push(event));
      await cluster.up();
    });

    afterAll(async () => {
      await cluster.down();
      await gw.stop();
    });

    const commandsReceived = (): number =>
      gw.record.connections.reduce(
        (n, c) => n + c.received.filter((p) => p.op !== 1 && p.op !== 2).length,
        0,
      );

    it('a send command of a bad shape -> CommandError naming the field; nothing is sent', async () => {
      const error = await cluster
        .command(0, { op: 3, d: { status: 'away', activities: 'none' } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandError);
      expect((error as CommandError).issues.map((i) => i.path)).toEqual(
        expect.arrayContaining(['status', 'activities']),
      );
      expect(commandsReceived()).toBe(0);
    });

    it('a send command over 4096 bytes -> PayloadTooLargeError before the socket (broadcast)', async () => {
      const error = await cluster
        .broadcast({
          op: 3,
          d: {
            since: null,
            status: 'online',
            afk: false,
            activities: Array.from({ length: 100 }, (_, i) => ({
              name: `activity ${i} with a long name`,
              type: 0,
            })),
          },
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect(commandsReceived()).toBe(0);
      expect(cluster.shard(0).state).toBe(ShardState.Active);
    });

    it('commands for a shard the cluster does not run -> UnknownShardError (by guild, presence, member request)', async () => {
      const guild = gw.traffic.guilds.find((g) => shardForGuild(g.id, 2) === 1)!;
      await expect(
        cluster.commandForGuild(guild.id, {
          op: 4,
          d: { guild_id: guild.id, channel_id: null, self_mute: false, self_deaf: false },
        }),
      ).rejects.toBeInstanceOf(UnknownShardError);
      await expect(
        cluster.updatePresence(
          { since: null, activities: [], status: 'idle' as never, afk: false },
          1,
        ),
      ).rejects.toBeInstanceOf(UnknownShardError);
      expect(() => cluster.requestGuildMembers(guild.id)).toThrow(UnknownShardError);
      expect(commandsReceived()).toBe(0);
    });
  });
});
