import { jest } from '@jest/globals';
import { DecodeError, ProtocolError } from '../../../lib/gateway/errors/errors.js';
import { ShardState } from '../../../lib/gateway/shard/shard-state.js';
import type { MalformedKind } from '../../../lib/testing/index.js';
import { count, harness, until, type Harness } from './helpers.js';

jest.setTimeout(20_000);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const errors = (harness: Harness): unknown[] => harness.data('SHARD_ERROR').map((d) => d.error);

/** Connects, sends two numbered messages, injects the bad frame, then two more. */
async function inject(
  kind: MalformedKind,
  shardOptions: Parameters<typeof harness>[1] = {},
): Promise<Harness> {
  h = await harness({}, shardOptions);
  await h.shard.connect();
  const conn = await h.gw.waitForConnection(0);
  const guild = h.gw.traffic.guilds[0]!;
  conn.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(guild, 'm0'));
  conn.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(guild, 'm1'));
  await until(() => count(h!.events, 'MESSAGE_CREATE') === 2);
  conn.sendMalformed(kind);
  await until(() => count(h!.events, 'SHARD_ERROR') >= 1);
  h.gw.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(guild, 'm2'), {
    shardId: 0,
    applyIntents: false,
  });
  h.gw.dispatch('MESSAGE_CREATE', h.gw.traffic.messageCreate(guild, 'm3'), {
    shardId: 0,
    applyIntents: false,
  });
  await until(
    () => count(h!.events, 'MESSAGE_CREATE') >= 4 && h!.shard.state === ShardState.Active,
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  return h;
}

const contents = (harness: Harness): string[] =>
  harness.data('MESSAGE_CREATE').map((d) => d.content as string);

/** What each injected frame must be reported as: its own fault, not a side effect of it. */
const EXPECTED_MESSAGE: Record<string, RegExp> = {
  'bad-json': /not valid JSON/,
  'wrong-shape': /op/,
  'unknown-op': /Unknown opcode 99/,
  'dispatch-without-t': /without t; its sequence is kept/,
  'dispatch-without-s': /without s/,
  'seq-backwards': /sequence \d+ after \d+/,
  'binary-garbage': /./,
  'invalid-utf8': /UTF-8/,
};

describe('bad input from the server (issue 6 catalogue): typed error, logged, the shard recovers, nothing re-delivered', () => {
  it.each<[MalformedKind, typeof DecodeError | typeof ProtocolError, 'resume' | 'stay']>([
    ['bad-json', DecodeError, 'resume'],
    ['wrong-shape', ProtocolError, 'stay'],
    ['unknown-op', ProtocolError, 'stay'],
    ['dispatch-without-t', ProtocolError, 'stay'],
    ['dispatch-without-s', ProtocolError, 'stay'],
    ['seq-backwards', ProtocolError, 'stay'],
    ['binary-garbage', DecodeError, 'resume'],
    ['invalid-utf8', DecodeError, 'resume'],
  ])('%s -> %p, %s', async (kind, type, after) => {
    const run = await inject(kind, { intents: ['Guilds', 'GuildMessages', 'MessageContent'] });
    expect(errors(run)[0]).toBeInstanceOf(type);
    expect((errors(run)[0] as Error).message).toMatch(EXPECTED_MESSAGE[kind]);
    expect(
      run.logs.lines.some(
        (l) => l.level === 'warn' && l.message.includes((errors(run)[0] as Error).message),
      ),
    ).toBe(true);
    expect(contents(run)).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(run.gw.record.identifies).toHaveLength(1);
    expect(run.gw.record.resumes).toHaveLength(after === 'resume' ? 1 : 0);
    expect(run.shard.stats.badFrames).toBeGreaterThanOrEqual(1);
  });

  it('corrupt zlib-stream frame -> DecodeError, a new connection (and inflater) resumes', async () => {
    const run = await inject('corrupt-zlib', {
      compression: 'zlib-stream',
      intents: ['Guilds', 'GuildMessages', 'MessageContent'],
    });
    expect(errors(run)[0]).toBeInstanceOf(DecodeError);
    expect(contents(run)).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(run.gw.record.resumes.map((r) => r.outcome)).toEqual(['resumed']);
  });

  it('invalid UTF-8 inside the zlib stream is a DecodeError (strict decode), then resume', async () => {
    const run = await inject('invalid-utf8', {
      compression: 'zlib-stream',
      intents: ['Guilds', 'GuildMessages', 'MessageContent'],
    });
    expect(errors(run)[0]).toBeInstanceOf(DecodeError);
    expect((errors(run)[0] as Error).message).toMatch(/UTF-8/);
    expect(contents(run)).toEqual(['m0', 'm1', 'm2', 'm3']);
  });

  it('GW-GT-5: a dispatch without s -> ProtocolError, still delivered once (unsequenced), the sequence left alone', async () => {
    h = await harness();
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    const before = h.shard.session!.sequence;
    conn.sendMalformed('dispatch-without-s');
    await until(() => count(h!.events, 'TYPING_START') === 1);
    expect(h.events.find((e) => e.type === 'TYPING_START')!.sequence).toBeNull();
    expect(h.shard.session!.sequence).toBe(before);
    expect(errors(h)).toHaveLength(1);
    expect(errors(h)[0]).toBeInstanceOf(ProtocolError);
    expect((errors(h)[0] as Error).message).toBe(
      'Dispatch TYPING_START without s; delivered unsequenced, the sequence left alone',
    );
    expect(h.logs.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toContainEqual(
      expect.stringContaining('TYPING_START without s'),
    );
    expect(h.shard.stats.badFrames).toBe(1);
    expect(h.shard.state).toBe(ShardState.Active);
  });

  it('docs/protocol.md section 20: RATE_LIMITED without s is accepted silently, delivered unsequenced (GW-RL-5)', async () => {
    h = await harness();
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    const before = h.shard.session!.sequence;
    const d = { opcode: 8, retry_after: 29.5, meta: { guild_id: '81384788765712384' } };
    conn.sendRaw(JSON.stringify({ op: 0, t: 'RATE_LIMITED', s: null, d }));
    conn.sendRaw(JSON.stringify({ op: 0, t: 'RATE_LIMITED', d }));
    await until(() => count(h!.events, 'RATE_LIMITED') === 2);
    expect(h.events.filter((e) => e.type === 'RATE_LIMITED').map((e) => e.sequence)).toEqual([
      null,
      null,
    ]);
    expect(h.data('RATE_LIMITED')).toEqual([d, d]);
    expect(h.shard.session!.sequence).toBe(before);
    expect(errors(h)).toEqual([]);
    expect(h.shard.stats.badFrames).toBe(0);
  });

  it('decompression bomb (inflated size over limits.maxInflatedBytes) -> DecodeError, reconnect; never a crash', async () => {
    h = await harness({}, { compression: 'zlib-stream', limits: { maxInflatedBytes: 256 * 1024 } });
    await h.shard.connect();
    (await h.gw.waitForConnection(0)).sendMalformed('huge', { bytes: 1024 * 1024 });
    await until(
      () => count(h!.events, 'SHARD_ERROR') >= 1 && count(h!.events, 'SHARD_RECONNECTING') >= 1,
    );
    expect(errors(h)[0]).toBeInstanceOf(DecodeError);
    expect((errors(h)[0] as Error).message).toMatch(/maxInflatedBytes/);
  });

  it('frame over limits.maxFrameBytes -> DecodeError (ws closes 1009), reconnect; never a crash', async () => {
    h = await harness({}, { limits: { maxFrameBytes: 256 * 1024 } });
    await h.shard.connect();
    (await h.gw.waitForConnection(0)).sendMalformed('huge', { bytes: 1024 * 1024 });
    await until(
      () => count(h!.events, 'SHARD_ERROR') >= 1 && count(h!.events, 'SHARD_RECONNECTING') >= 1,
    );
    expect(errors(h)[0]).toBeInstanceOf(DecodeError);
    expect((errors(h)[0] as Error).message).toMatch(/frame rejected/);
  });

  it.each([
    ['0', '{"op":10,"d":{"heartbeat_interval":0}}'],
    ['missing', '{"op":10,"d":{}}'],
    ['a string', '{"op":10,"d":{"heartbeat_interval":"41250"}}'],
  ])('HELLO with heartbeat_interval %s -> ProtocolError, reconnect', async (_what, hello) => {
    h = await harness();
    h.gw.nextConnections({ onConnect: 'none' });
    const connected = h.shard.connect();
    await until(() => h!.gw.connections.length === 1 && h!.gw.connections[0]!.isOpen);
    h.gw.connections[0]!.sendRaw(hello);
    await connected;
    expect(errors(h)[0]).toBeInstanceOf(ProtocolError);
    expect((errors(h)[0] as Error).message).toMatch(/heartbeat_interval/);
    expect(h.gw.record.connections).toHaveLength(2);
  });

  it('READY without session_id -> ProtocolError, reconnect and IDENTIFY again', async () => {
    h = await harness();
    h.gw.nextConnections({ withholdReady: true });
    const connected = h.shard.connect();
    await until(() => h!.gw.record.identifies.length === 1);
    h.gw.connections[0]!.sendRaw('{"op":0,"t":"READY","s":1,"d":{"v":10,"guilds":[]}}');
    await connected;
    expect(errors(h)[0]).toBeInstanceOf(ProtocolError);
    expect(h.gw.record.identifies).toHaveLength(2);
    expect(count(h.events, 'READY')).toBe(1);
  });

  it('RESUMED for a session never resumed -> ProtocolError, ignored; the shard stays Active', async () => {
    h = await harness();
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    conn.sendRaw(JSON.stringify({ op: 0, t: 'RESUMED', s: h.shard.session!.sequence + 1, d: {} }));
    await until(() => count(h!.events, 'SHARD_ERROR') === 1);
    expect(errors(h)[0]).toBeInstanceOf(ProtocolError);
    expect(count(h.events, 'SHARD_RESUMED')).toBe(0);
    expect(h.shard.state).toBe(ShardState.Active);
    expect(h.gw.record.connections).toHaveLength(1);
  });
});
