import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { constants as zlibConstants, deflateRawSync } from 'node:zlib';
import { WebSocketServer } from 'ws';
import type { GatewayEvent } from '../../../lib/gateway/events/gateway-event.js';
import type { FakeGateway } from '../../../lib/testing/index.js';
import { rawGateway, readyPayload } from './raw-gateway.js';
import {
  captureLogger,
  connectionRates,
  loadNest,
  ofType,
  SCALED_MINUTE_MS,
  scaledReconnect,
  shardErrors,
  sleep,
  TOKEN,
  tokenInLogs,
  until,
  type CaseContext,
} from './support.js';

/** Where a hostile input comes from. */
export type Source = 'gateway' | 'session file' | 'REST API' | 'options' | 'application';

/**
 * One hostile input and what the library promises to do with it. The child process runs
 * `run`; every promise below is checked there against what the servers and the shard recorded.
 */
export interface HostileCase {
  /** Stable name; the child process takes it as an argument. */
  readonly id: string;
  /** The defect of the hardening issue this case reproduces (`1`, `11.2`, ...). */
  readonly defect: string;
  readonly source: Source;
  /** The input, in words. */
  readonly input: string;
  /** What the library does now: survives (goes on) or surfaces (a typed error to the caller). */
  readonly outcome: string;
  /** Whether the shard reconnects, and how. */
  readonly reconnects: string;
  /**
   * Most connection attempts per minute when the input comes again on every connection
   * (real minutes, library defaults; the catalogue measures it time-scaled, see TIME_SCALE).
   */
  readonly perMinute: string;
  /** What the code before the hardening (commit f163b31) did with the same input, observed. */
  readonly before: string;
  /** Optional native addons the case runs without (see without-addons.ts). */
  readonly withoutAddons?: readonly string[];
  run(ctx: CaseContext): Promise<void>;
}

const scaledMinutes = (n: number): Promise<void> => sleep(n * SCALED_MINUTE_MS);
const warns = (logs: { lines: { level: string; message: string }[] }, pattern: RegExp): number =>
  logs.lines.filter((l) => l.level === 'warn' && pattern.test(l.message)).length;
const lastAttempt = (events: readonly GatewayEvent[]): number =>
  Math.max(
    0,
    ...ofType(events, 'SHARD_RECONNECTING').map((e) => (e.data as { attempt: number }).attempt),
  );

/**
 * Connections of a shard that keeps failing: the first 8 come after waits that are still
 * growing (0, then 1, 2, 4, 8, 16, 32 s, each jittered down to half), so they fit in one
 * minute; every later wait is 30-60 s (half to all of reconnect.maxDelayMs): at most 2 a minute,
 * 1.3 on average. 2.5 leaves room for where the measured span starts and ends; the code
 * before the hardening made thousands.
 */
const FIRST_MINUTE = 8;
const STEADY_PER_MINUTE = 2.5;

/** Runs the gateway for `minutes` (scaled) and checks the shard's rate of connections. */
async function measureStorm(
  ctx: CaseContext,
  gw: FakeGateway,
  events: readonly GatewayEvent[],
  minutes: number,
): Promise<void> {
  await scaledMinutes(minutes);
  const opened = gw.record.connections.map((c) => c.openedAt);
  const { maxInAnyMinute, steadyPerMinute } = connectionRates(opened, FIRST_MINUTE);
  ctx.fact('connections', opened.length);
  ctx.fact('minutes', minutes);
  ctx.fact('maxInAnyMinute', maxInAnyMinute);
  ctx.fact('steadyPerMinute', steadyPerMinute);
  ctx.fact('lastAttempt', lastAttempt(events));
  ctx.check(opened.length >= 3, `the gateway saw ${opened.length} connections, expected a few`);
  ctx.check(
    steadyPerMinute <= STEADY_PER_MINUTE,
    `${steadyPerMinute} connections a minute after the first ${FIRST_MINUTE}, over ${STEADY_PER_MINUTE}`,
  );
  ctx.check(
    maxInAnyMinute <= FIRST_MINUTE,
    `${maxInAnyMinute} connections within one minute, over ${FIRST_MINUTE}`,
  );
  ctx.check(
    lastAttempt(events) >= opened.length - 1,
    `SHARD_RECONNECTING.attempt stopped counting (${lastAttempt(events)} after ${opened.length} connections)`,
  );
}

function storm(
  id: string,
  fault: 'close' | 'reconnect' | 'bad-frame' | 'drop',
  input: string,
  before: string,
  minutes: number,
): HostileCase {
  return {
    id,
    defect: '1',
    source: 'gateway',
    input,
    outcome: 'survives; a warning at 5, 10, 20, ... connections in a row that did not stay up',
    reconnects: 'yes, RESUME, with backoff that keeps growing',
    perMinute: 'at most 8 in the first minute, then at most 2 (1.3 on average)',
    before,
    async run(ctx) {
      const gw = await ctx.gateway({ connection: { afterHandshake: fault } });
      const { shard, events, logs } = ctx.shard(gw, { reconnect: scaledReconnect });
      void shard.connect().catch(() => {});
      await measureStorm(ctx, gw, events, minutes);
      ctx.fact('resumes', gw.record.resumes.length);
      ctx.fact('warnings', warns(logs, /in a row/));
      ctx.check(gw.record.resumes.length >= 2, 'the shard did not resume');
      ctx.check(warns(logs, /in a row/) >= 1, 'no warning about a shard that keeps failing');
      ctx.check(!tokenInLogs(logs), 'the token is in a log line');
    },
  };
}

/** A session id of 5 000 characters: its RESUME is over 4 096 bytes. */
const LONG_ID = 'x'.repeat(5_000);

/** ETF: a message whose whole term is `depth` nested one-element lists (5 bytes a level). */
function nestedLists(depth: number): Buffer {
  const out = Buffer.alloc(1 + depth * 6 + 1);
  out[0] = 131;
  let at = 1;
  for (let i = 0; i < depth; i++) {
    out[at] = 108;
    out.writeUInt32BE(1, at + 1);
    at += 5;
  }
  out.fill(106, at); // the innermost element, then each list's tail
  return out;
}

/** ETF map header of a dispatch `{op: 0, t, s, d: <term that follows>}` (binary keys). */
function etfDispatchHead(t: string, s: number): Buffer {
  const binary = (text: string): Buffer => {
    const bytes = Buffer.from(text);
    const head = Buffer.alloc(5);
    head[0] = 109;
    head.writeUInt32BE(bytes.length, 1);
    return Buffer.concat([head, bytes]);
  };
  const seq = Buffer.alloc(5);
  seq[0] = 98;
  seq.writeInt32BE(s, 1);
  return Buffer.concat([
    Buffer.from([131, 116, 0, 0, 0, 4]),
    binary('op'),
    Buffer.from([97, 0]),
    binary('t'),
    binary(t),
    binary('s'),
    seq,
    binary('d'),
  ]);
}

/**
 * ETF COMPRESSED_TERM (tag 80) of ~611 KB that inflates to `mib` MiB: one binary of that size
 * (zeros). zlib blocks of 1 MiB each, full-flushed so that every block after the first is the
 * same bytes, then a final empty block and the Adler-32 of the whole.
 */
function compressedBomb(mib: number): Buffer {
  const total = mib * (1 << 20);
  const term = Buffer.alloc(5);
  term[0] = 109; // BINARY_EXT
  term.writeUInt32BE(total - 5, 1);
  const flush = { finishFlush: zlibConstants.Z_FULL_FLUSH };
  const first = deflateRawSync(Buffer.concat([term, Buffer.alloc((1 << 20) - 5)]), flush);
  const zeros = deflateRawSync(Buffer.alloc(1 << 20), flush);
  // Adler-32: only the first 5 bytes are not zero, so the running sum is constant after them.
  let a = 1;
  let b = 0;
  for (const byte of term) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  b = (b + ((total - 5) % 65521) * a) % 65521;
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(((b << 16) | a) >>> 0);
  const head = Buffer.alloc(6);
  head[0] = 131;
  head[1] = 80;
  head.writeUInt32BE(total, 2);
  return Buffer.concat([
    head,
    Buffer.from([0x78, 0x9c]),
    first,
    ...Array.from({ length: mib - 1 }, () => zeros),
    Buffer.from([0x03, 0x00]),
    adler,
  ]);
}

/** A zlib-stream continuation: one message of `prefix`, `mib` MiB of 'a', `suffix`. */
function zlibStreamBomb(prefix: string, mib: number, suffix: string): Buffer {
  const flush = { finishFlush: zlibConstants.Z_FULL_FLUSH };
  const block = deflateRawSync(Buffer.alloc(1 << 20, 0x61), flush);
  return Buffer.concat([
    deflateRawSync(Buffer.from(prefix), flush),
    ...Array.from({ length: mib }, () => block),
    deflateRawSync(Buffer.from(suffix), { finishFlush: zlibConstants.Z_SYNC_FLUSH }),
  ]);
}

/** A zstd frame holding `text` in one raw block (last block, 128 KiB window, no checksum). */
function zstdRawFrame(text: string): Buffer {
  const body = Buffer.from(text);
  const header = (body.length << 3) | 1; // raw block, last
  return Buffer.concat([
    Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]),
    Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]),
    body,
  ]);
}

/** An 89-byte zstd frame asking for a 1.875 GiB window: 20 RLE blocks of 128 KiB, none last. */
function zstdHugeWindowFrame(): Buffer {
  const block = Buffer.from([0x02, 0x00, 0x10, 0x61]);
  return Buffer.concat([
    Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa7]),
    ...Array.from({ length: 20 }, () => block),
    Buffer.from([0x03, 0x00, 0x00]),
  ]);
}

/** A pid no process has now (a child that already exited). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid ?? 999_999;
}

/** A listener that plays a gateway on `localhost`: sends HELLO, counts what arrives. */
async function attacker(
  ctx: CaseContext,
): Promise<{ url: string; connections: number; tokenSeen: () => boolean }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((done) => server.once('listening', done));
  const state = { connections: 0, token: false };
  server.on('connection', (socket) => {
    state.connections++;
    socket.on('error', () => {});
    socket.on('message', (data) => {
      if (String(data).includes(TOKEN)) state.token = true;
    });
    socket.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41_250 } }));
  });
  ctx.onEnd(
    () =>
      new Promise<void>((done) => {
        for (const client of server.clients) client.terminate();
        server.close(() => done());
      }),
  );
  const { port } = server.address() as { port: number };
  return {
    url: `ws://localhost:${port}`,
    get connections() {
      return state.connections;
    },
    tokenSeen: () => state.token,
  };
}

/** A value that throws when inspected or turned into a string: printing it crashes a logger. */
function uninspectable(): unknown {
  const fail = (): never => {
    throw new Error('this value cannot be printed');
  };
  return { [inspect.custom]: fail, toString: fail, [Symbol.toPrimitive]: fail };
}

/** Whether `text` holds a C0 control character or DEL (what drives a terminal or ends a line). */
const hasControlCharacter = (text: string): boolean =>
  [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

export const CASES: readonly HostileCase[] = [
  storm(
    'storm-close-after-resumed',
    'close',
    'closes every connection with 4000 right after READY or RESUMED',
    'exit 0, but 955 connections in the 6 s run (~9,500 a real minute: no wait after a RESUMED), each a RESUME with the token; attempt stuck at 1; no warning',
    10,
  ),
  storm(
    'storm-op7-after-resumed',
    'reconnect',
    'sends op 7 right after every READY or RESUMED',
    'exit 0, but 389 connections in the 3 s run (~7,800 a real minute); attempt stuck at 1',
    5,
  ),
  storm(
    'storm-bad-frame-after-resumed',
    'bad-frame',
    'sends a truncated JSON frame right after every READY or RESUMED',
    'exit 0, but 341 connections in the 3 s run (~6,800 a real minute), a warn line each; attempt stuck at 1',
    5,
  ),
  storm(
    'storm-drop-after-resumed',
    'drop',
    'drops TCP (no close frame) right after every READY or RESUMED',
    'exit 0, but 556 connections in the 3 s run (~11,000 a real minute); attempt stuck at 1',
    5,
  ),
  {
    id: 'ready-session-id-5000',
    defect: '2',
    source: 'gateway',
    input: 'READY with a 5,000-character session_id, then drops the connection',
    outcome: 'surfaces ProtocolError (SHARD_ERROR); the session is not taken',
    reconnects: 'yes, IDENTIFY (a new session)',
    perMinute: 'at most 2 once the backoff is at its cap (never Active)',
    before:
      'READY taken; after the drop, PayloadTooLargeError (RESUME of 5,067 bytes) thrown out of the socket handler: exit 1. Under a global handler: CONNECTING for ever, close() never resolved',
    async run(ctx) {
      const gw = await ctx.gateway();
      gw.nextConnections({ withholdReady: true });
      const { shard, events } = ctx.shard(gw, { reconnect: scaledReconnect });
      void shard.connect().catch(() => {});
      await until(() => gw.record.identifies.length === 1);
      const conn = gw.connections[0]!;
      conn.sendRaw(JSON.stringify(readyPayload(gw.resumeUrl, LONG_ID)));
      await sleep(50);
      conn.terminate();
      await until(() => gw.record.connections.length === 2);
      const active = await until(() => shard.state === ctx.core.ShardState.Active, 5_000);
      ctx.fact('errors', shardErrors(events).join(','));
      ctx.fact('identifies', gw.record.identifies.length);
      ctx.check(active, `not Active again (${shard.state})`);
      ctx.check(shardErrors(events).includes('ProtocolError'), 'no ProtocolError for the READY');
      ctx.check(gw.record.identifies.length === 2, 'no second IDENTIFY');
      ctx.check(shard.session?.id !== LONG_ID, 'the 5,000-character session was kept');
    },
  },
  {
    id: 'stored-session-id-5000',
    defect: '2',
    source: 'session file',
    input: 'a FileSessionStore entry with a 5,000-character session id',
    outcome: 'survives: the entry is skipped with a warning',
    reconnects: 'no reconnect: IDENTIFY on the first connection',
    perMinute: 'not applicable (read once at start-up)',
    before:
      'PayloadTooLargeError out of the socket handler: exit 1. Under a global handler: up() never resolved, down() neither',
    async run(ctx) {
      const gw = await ctx.gateway();
      const path = join(mkdtempSync(join(tmpdir(), 'hostile-')), 'sessions.json');
      writeFileSync(
        path,
        JSON.stringify({
          version: 1,
          sessions: { '1:0': { id: LONG_ID, sequence: 5, resumeUrl: gw.resumeUrl } },
        }),
      );
      const logs = captureLogger();
      const cluster = new ctx.core.Cluster(
        {
          token: TOKEN,
          intents: ['Guilds'],
          gatewayUrl: gw.url,
          apiUrl: gw.apiUrl,
          compression: 'none',
          shards: { from: 0, to: 0, shardCount: 1 },
        },
        { logger: logs, sessionStore: new ctx.core.FileSessionStore(path, logs) },
      );
      ctx.track('cluster', cluster);
      const up = await Promise.race([
        cluster.up().then(
          () => 'up',
          (error: unknown) => `rejected: ${(error as Error).name}`,
        ),
        sleep(5_000).then(() => 'pending'),
      ]);
      ctx.fact('up', up);
      ctx.fact('resumes', gw.record.resumes.length);
      ctx.check(up === 'up', `up() ${up}`);
      ctx.check(gw.record.resumes.length === 0, 'the stored session was resumed');
      ctx.check(warns(logs, /invalid entry/) === 1, 'no warning about the skipped entry');
    },
  },
  {
    id: 'session-option-id-5000',
    defect: '2',
    source: 'options',
    input: 'the `session` option with a 5,000-character id',
    outcome: 'surfaces ConfigError from the constructor (path session.id, never the value)',
    reconnects: 'no shard is made',
    perMinute: '0',
    before:
      'accepted; connect() threw PayloadTooLargeError out of the socket handler: exit 1. Under a global handler: CONNECTING for ever, close() never resolved',
    async run(ctx) {
      const gw = await ctx.gateway();
      let error: unknown = null;
      try {
        const { shard } = ctx.shard(gw, {
          session: { id: LONG_ID, sequence: 3, resumeUrl: gw.resumeUrl },
        });
        await Promise.race([shard.connect(), sleep(2_000)]);
      } catch (caught) {
        error = caught;
      }
      ctx.fact('error', (error as Error | null)?.name ?? null);
      ctx.check(error instanceof ctx.core.ConfigError, 'no ConfigError');
      ctx.check(
        !String((error as Error | null)?.message).includes(LONG_ID),
        'the error quotes the id',
      );
      ctx.check(gw.record.connections.length === 0, 'a connection was opened');
    },
  },
  {
    id: 'etf-nested-lists-300k',
    defect: '3',
    source: 'gateway',
    input: 'an ETF message of 300 KB: 50,000 nested lists',
    outcome: 'surfaces DecodeError (SHARD_ERROR: nesting over 100)',
    reconnects: 'yes, RESUME',
    perMinute: 'at most 8 in the first minute, then at most 2',
    before: 'segmentation fault in erlpack 0.1.4: exit 139',
    async run(ctx) {
      const gw = await ctx.gateway();
      const { shard, events } = ctx.shard(gw, { encoding: 'etf', reconnect: scaledReconnect });
      await shard.connect();
      gw.connections[0]!.sendRaw(nestedLists(50_000), { compress: false, binary: true });
      const resumed = await until(() => ofType(events, 'SHARD_RESUMED').length === 1);
      ctx.fact('errors', shardErrors(events).join(','));
      ctx.check(shardErrors(events)[0] === 'DecodeError', 'no DecodeError');
      ctx.check(resumed && shard.state === ctx.core.ShardState.Active, 'not resumed');
    },
  },
  {
    id: 'etf-compressed-term-bomb',
    defect: '3',
    source: 'gateway',
    input: 'an ETF COMPRESSED_TERM of 611 KB that inflates to 600 MiB',
    outcome: 'surfaces DecodeError (over limits.maxInflatedBytes, nothing inflated past it)',
    reconnects: 'yes, RESUME',
    perMinute: 'at most 8 in the first minute, then at most 2',
    before: 'erlpack inflated it past every cap: V8 fatal error, exit 134',
    async run(ctx) {
      const gw = await ctx.gateway();
      const { shard, events } = ctx.shard(gw, { encoding: 'etf', reconnect: scaledReconnect });
      await shard.connect();
      const bomb = compressedBomb(600);
      ctx.fact('bytes', bomb.length);
      const rss = process.memoryUsage().rss;
      gw.connections[0]!.sendRaw(bomb, { compress: false, binary: true });
      const resumed = await until(() => ofType(events, 'SHARD_RESUMED').length === 1);
      const grownMiB = Math.round((process.memoryUsage().rss - rss) / 2 ** 20);
      ctx.fact('rssGrowthMiB', grownMiB);
      ctx.check(shardErrors(events)[0] === 'DecodeError', 'no DecodeError');
      ctx.check(resumed && shard.state === ctx.core.ShardState.Active, 'not resumed');
      ctx.check(grownMiB < 300, `memory grew by ${grownMiB} MiB`);
    },
  },
  {
    id: 'stored-resume-url-foreign-host',
    defect: '4',
    source: 'session file',
    input:
      'a stored session whose resumeUrl is another host (ws://localhost:<port>, the gateway is 127.0.0.1)',
    outcome: 'survives: the URL is refused (warning); the RESUME goes to the gateway URL',
    reconnects: 'no reconnect to the stored host, ever',
    perMinute: 'not applicable (read once at start-up)',
    before:
      'the RESUME with the token went to the stored host (1 connection there), no warning; up() never resolved',
    async run(ctx) {
      const gw = await ctx.gateway();
      const evil = await attacker(ctx);
      const path = join(mkdtempSync(join(tmpdir(), 'hostile-')), 'sessions.json');
      writeFileSync(
        path,
        JSON.stringify({
          version: 1,
          sessions: { '1:0': { id: 'stored-session', sequence: 5, resumeUrl: evil.url } },
        }),
      );
      const logs = captureLogger();
      const cluster = new ctx.core.Cluster(
        {
          token: TOKEN,
          intents: ['Guilds'],
          gatewayUrl: gw.url,
          apiUrl: gw.apiUrl,
          compression: 'none',
          shards: { from: 0, to: 0, shardCount: 1 },
        },
        { logger: logs, sessionStore: new ctx.core.FileSessionStore(path, logs) },
      );
      ctx.track('cluster', cluster);
      const up = await Promise.race([
        cluster.up().then(
          () => 'up',
          (error: unknown) => `rejected: ${(error as Error).name}`,
        ),
        sleep(5_000).then(() => 'pending'),
      ]);
      ctx.fact('up', up);
      ctx.fact('attackerConnections', evil.connections);
      ctx.check(evil.connections === 0, `${evil.connections} connections to the stored host`);
      ctx.check(!evil.tokenSeen(), 'the token reached the stored host');
      ctx.check(up === 'up', `up() ${up}`);
      ctx.check(
        logs.lines.some((l) => l.level === 'warn'),
        'no warning',
      );
    },
  },
  {
    id: 'ready-resume-url-foreign-host',
    defect: '4',
    source: 'gateway',
    input: 'READY whose resume_gateway_url is another host, then a drop',
    outcome: 'surfaces ResumeUrlRefusedError (SHARD_ERROR); RESUME on the gateway URL',
    reconnects: 'yes, RESUME on the base URL',
    perMinute: 'at most 8 in the first minute, then at most 2',
    before: 'READY taken, no error; after the drop the RESUME with the token went to that host',
    async run(ctx) {
      const gw = await ctx.gateway();
      const evil = await attacker(ctx);
      gw.nextConnections({ withholdReady: true });
      const { shard, events } = ctx.shard(gw, { reconnect: scaledReconnect });
      void shard.connect().catch(() => {});
      await until(() => gw.record.identifies.length === 1);
      const conn = gw.connections[0]!;
      conn.sendRaw(JSON.stringify(readyPayload(evil.url)));
      await sleep(50);
      conn.terminate();
      await until(() => gw.record.connections.length >= 2 || evil.connections > 0);
      await sleep(300);
      ctx.fact('errors', shardErrors(events).join(','));
      ctx.fact('attackerConnections', evil.connections);
      ctx.check(evil.connections === 0, `${evil.connections} connections to the READY's host`);
      ctx.check(!evil.tokenSeen(), 'the token reached the READY host');
      ctx.check(shardErrors(events).includes('ResumeUrlRefusedError'), 'no ResumeUrlRefusedError');
      ctx.check(gw.record.resumes.length >= 1, 'no RESUME on the gateway URL');
    },
  },
  {
    id: 'record-to-full-disk',
    defect: '5',
    source: 'application',
    input:
      'recordTo on a full disk (/dev/full: every write fails with ENOSPC) while dispatches arrive',
    outcome: 'survives: one error line, recording stops, every dispatch is delivered',
    reconnects: 'no',
    perMinute: '0',
    before: 'ENOSPC thrown out of the socket handler: exit 1',
    async run(ctx) {
      const gw = await ctx.gateway();
      const { shard, events, logs } = ctx.shard(gw, { recordTo: '/dev/full' });
      await shard.connect();
      const conn = gw.connections[0]!;
      const guild = gw.traffic.guilds[0]!;
      for (let i = 0; i < 3; i++)
        conn.dispatch('MESSAGE_CREATE', gw.traffic.messageCreate(guild, `m${i}`));
      const delivered = await until(() => ofType(events, 'MESSAGE_CREATE').length === 3, 5_000);
      const errors = logs.lines.filter((l) => l.level === 'error' && /recordTo/.test(l.message));
      ctx.fact('errorLines', errors.length);
      ctx.check(delivered, 'the dispatches were not all delivered');
      ctx.check(errors.length === 1, `${errors.length} error lines about recordTo, expected 1`);
      ctx.check(gw.record.connections.length === 1, 'the shard reconnected');
    },
  },
  {
    id: 'record-to-deep-etf',
    defect: '5',
    source: 'gateway',
    input: 'with recordTo and ETF: a dispatch whose d is 100,000 nested lists',
    outcome: 'surfaces DecodeError (nesting); the recording and the shard go on',
    reconnects: 'yes, RESUME',
    perMinute: 'at most 8 in the first minute, then at most 2',
    before: 'segmentation fault in erlpack before the recorder saw it: exit 139',
    async run(ctx) {
      const gw = await ctx.gateway();
      const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
      const { shard, events } = ctx.shard(gw, {
        encoding: 'etf',
        recordTo: join(dir, 'record.jsonl'),
        reconnect: scaledReconnect,
      });
      await shard.connect();
      const seq = (gw.connections[0]!.session?.seq ?? 1) + 1;
      gw.connections[0]!.sendRaw(
        Buffer.concat([etfDispatchHead('MESSAGE_CREATE', seq), nestedLists(100_000).subarray(1)]),
        { compress: false, binary: true },
      );
      const resumed = await until(() => ofType(events, 'SHARD_RESUMED').length === 1);
      ctx.fact('errors', shardErrors(events).join(','));
      ctx.check(shardErrors(events).includes('DecodeError'), 'no DecodeError');
      ctx.check(resumed && shard.state === ctx.core.ShardState.Active, 'not resumed');
    },
  },
  {
    id: 'hello-interval-1ms',
    defect: '6',
    source: 'gateway',
    input: 'HELLO with heartbeat_interval 1 on every connection',
    outcome: 'surfaces ProtocolError (below the 1,000 ms floor); no heartbeat is sent',
    reconnects: 'yes, with backoff (never Active)',
    perMinute: 'at most 8 in the first minute, then at most 2; heartbeats 0',
    before:
      'interval taken: 1,355 heartbeats in 2.4 s (~33,900 a minute) on one connection, no error',
    async run(ctx) {
      const gw = await ctx.gateway({ heartbeatIntervalMs: 1 });
      const { shard, events } = ctx.shard(gw, { reconnect: scaledReconnect });
      void shard.connect().catch(() => {});
      const started = performance.now();
      await measureStorm(ctx, gw, events, 4);
      const heartbeats = gw.record.connections.reduce((n, c) => n + c.heartbeats, 0);
      const perRealMinute = Math.round((heartbeats / (performance.now() - started)) * 60_000);
      ctx.fact('heartbeatsPerRealMinute', perRealMinute);
      ctx.check(shardErrors(events).includes('ProtocolError'), 'no ProtocolError');
      ctx.check(heartbeats <= 1, `${heartbeats} heartbeats sent`);
    },
  },
  {
    id: 'zstd-later-frame-huge-window',
    defect: '7',
    source: 'gateway',
    input:
      'zstd-stream (fzstd): HELLO in a first frame, then an 89-byte frame asking for a 1.875 GiB window',
    outcome: 'surfaces DecodeError before fzstd allocates the window',
    reconnects: 'yes (IDENTIFY: no session yet)',
    perMinute: 'at most 8 in the first minute, then at most 2',
    before:
      'fzstd allocated the 1.875 GiB window: the event loop blocked for 10.9 s; then a DecodeError only because the 2.6 MB it inflated were not JSON',
    withoutAddons: ['zstd-napi'],
    async run(ctx) {
      const gw = await rawGateway({
        onConnect(conn) {
          conn.socket.send(
            zstdRawFrame(JSON.stringify({ op: 10, d: { heartbeat_interval: 41_250 } })),
          );
          setTimeout(() => conn.socket.send(zstdHugeWindowFrame()), 20);
        },
        ready: false,
      });
      ctx.onEnd(() => gw.stop());
      // The longest the event loop went without running a 10 ms timer.
      let last = performance.now();
      let blockedMs = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        blockedMs = Math.max(blockedMs, Math.round(now - last - 10));
        last = now;
      }, 10);
      const { shard, events, logs } = ctx.shard(gw, {
        compression: 'zstd-stream',
        reconnect: scaledReconnect,
      });
      void shard.connect().catch(() => {});
      const surfaced = await until(() => shardErrors(events).length > 0, 20_000);
      await sleep(50);
      clearInterval(ticker);
      const inflater = logs.lines.find((l) => /inflating with/.test(l.message))?.message ?? '';
      ctx.fact('inflater', inflater.replace(/.*inflating with /, ''));
      ctx.check(/fzstd/.test(inflater), `not inflated with fzstd (${inflater})`);
      ctx.fact('errors', shardErrors(events).join(','));
      ctx.fact('maxEventLoopDelayMs', blockedMs);
      ctx.check(surfaced && shardErrors(events)[0] === 'DecodeError', 'no DecodeError');
      // 3 s: far above what a loaded machine adds, far below the 10.9 s the unchecked window took.
      ctx.check(blockedMs < 3_000, `the event loop was blocked for ${blockedMs} ms`);
    },
  },
  {
    id: 'nest-module-inspect',
    defect: '8',
    source: 'application',
    input: 'util.inspect of the Nest objects: GatewayModule, ClusterService, the resolved options',
    outcome: 'no token in any rendering',
    reconnects: 'not applicable',
    perMinute: 'not applicable',
    before: '2 of the 6 renderings showed the token (through the resolved options)',
    async run(ctx) {
      await import('reflect-metadata');
      const { Test } = await import('@nestjs/testing');
      const nest = await loadNest();
      const gw = await ctx.gateway({ shards: 1 });
      const app = await Test.createTestingModule({
        imports: [
          nest.GatewayModule.forRoot({
            token: `Bot ${TOKEN}`,
            intents: ['Guilds'],
            gatewayUrl: gw.url,
            apiUrl: gw.apiUrl,
            compression: 'none',
            shards: { from: 0, to: 0, shardCount: 1 },
          } as never),
        ],
      }).compile();
      app.useLogger(false);
      await app.init();
      ctx.onEnd(() => app.close());
      const service = app.get(nest.ClusterService);
      await service.cluster.waitUntilReady();
      const leaks = [app.get(nest.GatewayModule), service, service.cluster]
        .flatMap((value) => [
          inspect(value, { depth: 12, showHidden: true }),
          inspect(value, { depth: 12, showHidden: true, customInspect: false }),
        ])
        .filter((text) => text.includes(TOKEN)).length;
      ctx.fact('renderingsWithToken', leaks);
      ctx.check(leaks === 0, `${leaks} renderings show the token`);
    },
  },
  {
    id: 'members-chunk-not-found-not-array',
    defect: '9',
    source: 'gateway',
    input: 'answers a member request with a GUILD_MEMBERS_CHUNK whose not_found is a string',
    outcome: 'surfaces ProtocolError: all() rejects at once',
    reconnects: 'no',
    perMinute: '0',
    before: 'all() still pending after 3 s, and for ever (its timer was already cleared)',
    async run(ctx) {
      const guildId = '200000000000000001';
      const gw = await rawGateway({
        onPayload(conn, payload) {
          if (payload.op !== 8) return;
          const nonce = (payload.d as { nonce?: string }).nonce;
          conn.send({
            op: 0,
            t: 'GUILD_MEMBERS_CHUNK',
            s: 2,
            d: {
              guild_id: guildId,
              members: [],
              chunk_index: 0,
              chunk_count: 1,
              not_found: 'x',
              nonce,
            },
          });
        },
      });
      ctx.onEnd(() => gw.stop());
      const cluster = new ctx.core.Cluster(
        {
          token: TOKEN,
          intents: ['Guilds'],
          gatewayUrl: gw.url,
          compression: 'none',
          shards: { from: 0, to: 0, shardCount: 1 },
          maxConcurrency: 1,
        },
        { logger: captureLogger(), queue: { enqueue: async () => {} } },
      );
      ctx.track('cluster', cluster);
      await cluster.up();
      const settled = await Promise.race([
        cluster
          .requestGuildMembers(guildId, { userIds: ['300000000000000001'] } as never)
          .all()
          .then(
            () => 'resolved',
            (error: unknown) => `rejected: ${(error as Error).name}`,
          ),
        sleep(5_000).then(() => 'pending'),
      ]);
      ctx.fact('all', settled);
      ctx.check(settled === 'rejected: ProtocolError', `all() ${settled}`);
    },
  },
  {
    id: 'rate-limited-without-meta',
    defect: '9',
    source: 'gateway',
    input: 'a RATE_LIMITED dispatch without meta',
    outcome: "survives: the cluster's listeners receive it",
    reconnects: 'no',
    perMinute: '0',
    before: "the cluster's routing threw on it: the listener never received it",
    async run(ctx) {
      const gw = await ctx.gateway();
      const cluster = new ctx.core.Cluster(
        {
          token: TOKEN,
          intents: ['Guilds'],
          gatewayUrl: gw.url,
          apiUrl: gw.apiUrl,
          compression: 'none',
          shards: { from: 0, to: 0, shardCount: 1 },
        },
        { logger: captureLogger(), queue: { enqueue: async () => {} } },
      );
      ctx.track('cluster', cluster);
      const seen: string[] = [];
      cluster.addListener((event) => seen.push(event.type));
      await cluster.up();
      gw.connections[0]!.dispatch('RATE_LIMITED', { opcode: 8, retry_after: 1 });
      const received = await until(() => seen.includes('RATE_LIMITED'), 5_000);
      ctx.fact('received', received);
      ctx.check(received, 'the listener did not receive RATE_LIMITED');
    },
  },
  {
    id: 'listener-throws-uninspectable',
    defect: '10',
    source: 'application',
    input:
      'with the default console logger: an async and a sync cluster listener throw a value that cannot be printed, on each dispatch',
    outcome: 'survives: logged (as far as it can be), the next listeners and dispatches go on',
    reconnects: 'no',
    perMinute: '0',
    before:
      "console.error threw printing it: the async listener's rejection went unhandled, exit 1 (the sync one also stopped delivery to later listeners)",
    async run(ctx) {
      const gw = await ctx.gateway();
      // No logger: the default console logger writes to stderr.
      const cluster = new ctx.core.Cluster(
        {
          token: TOKEN,
          intents: ['Guilds', 'GuildMessages'],
          gatewayUrl: gw.url,
          apiUrl: gw.apiUrl,
          compression: 'none',
          shards: { from: 0, to: 0, shardCount: 1 },
        },
        { queue: { enqueue: async () => {} } },
      );
      ctx.track('cluster', cluster);
      const delivered: string[] = [];
      cluster.addListener(async (event) => {
        if (event.type === 'MESSAGE_CREATE') throw uninspectable();
      });
      cluster.addListener((event) => {
        if (event.type === 'MESSAGE_CREATE') throw uninspectable();
      });
      cluster.addListener((event) => {
        if (event.type === 'MESSAGE_CREATE') delivered.push(event.type);
      });
      await cluster.up();
      const guild = gw.traffic.guilds[0]!;
      for (let i = 0; i < 3; i++)
        gw.connections[0]!.dispatch('MESSAGE_CREATE', gw.traffic.messageCreate(guild, `m${i}`));
      const all = await until(() => delivered.length === 3, 5_000);
      await sleep(50);
      ctx.fact('delivered', delivered.length);
      ctx.check(all, 'not every dispatch reached the later listener');
      ctx.check(
        cluster.shard(0).state === ctx.core.ShardState.Active,
        `shard ${cluster.shard(0).state}`,
      );
    },
  },
  {
    id: 'rest-error-echoes-token',
    defect: '11',
    source: 'REST API',
    input: 'GET /gateway/bot answered 403 with a body that echoes the request headers',
    outcome: 'surfaces HttpError (status and Discord code only, no body text)',
    reconnects: 'no: up() rejects',
    perMinute: '0',
    before: "HttpError's message (and its log line) held the body: the token",
    async run(ctx) {
      const rest = await ctx.rest((req, res) => {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `denied: ${req.headers.authorization}`, code: 50001 }));
      });
      const logs = captureLogger();
      const cluster = new ctx.core.Cluster(
        { token: TOKEN, intents: ['Guilds'], apiUrl: rest.apiUrl },
        { logger: logs },
      );
      ctx.track('cluster', cluster);
      const error = await cluster.up().then(
        () => null,
        (caught: unknown) => caught,
      );
      ctx.fact('error', (error as Error | null)?.name ?? null);
      ctx.check(error instanceof ctx.core.HttpError, 'no HttpError');
      const texts = [inspect(error, { showHidden: true }), String((error as Error)?.stack)];
      ctx.check(!texts.some((t) => t.includes(TOKEN)), 'the error shows the token');
      ctx.check(!tokenInLogs(logs), 'a log line shows the token');
    },
  },
  {
    id: 'rest-retry-after-huge',
    defect: '11',
    source: 'REST API',
    input: 'GET /gateway/bot answered 429 with retry_after 10^10 s',
    outcome: 'surfaces HttpError at once (the wait is over maxRetryWaitMs)',
    reconnects: 'no retry: 1 request',
    perMinute: '1 request',
    before: 'the wait overflowed the timer: 6 requests at once, then HttpError',
    async run(ctx) {
      const rest = await ctx.rest((_req, res) => {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '10000000000' });
        res.end(JSON.stringify({ message: 'rate limited', retry_after: 1e10, global: true }));
      });
      const cluster = new ctx.core.Cluster(
        { token: TOKEN, intents: ['Guilds'], apiUrl: rest.apiUrl },
        { logger: captureLogger() },
      );
      ctx.track('cluster', cluster);
      const outcome = await Promise.race([
        cluster.up().then(
          () => 'up',
          (error: unknown) => (error as Error).name,
        ),
        sleep(5_000).then(() => 'pending'),
      ]);
      ctx.fact('outcome', outcome);
      ctx.fact('requests', rest.requests.length);
      ctx.check(outcome === 'HttpError', `up() ${outcome}`);
      ctx.check(rest.requests.length === 1, `${rest.requests.length} requests`);
    },
  },
  {
    id: 'rest-100k-shards',
    defect: '11',
    source: 'REST API',
    input: 'GET /gateway/bot recommends 100,000 shards',
    outcome: 'surfaces ConfigError (over maxRecommendedShards, 2,500) before any shard is made',
    reconnects: 'no connection',
    perMinute: '0',
    before:
      'started making 100,000 shards: no answer within 30 s (heap capped at 700 MB for the check), killed; the issue measured 4.1 GB and over 60 s blocked',
    async run(ctx) {
      const rest = await ctx.rest((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            url: 'wss://gateway.discord.gg',
            shards: 100_000,
            session_start_limit: {
              total: 1_000_000,
              remaining: 1_000_000,
              reset_after: 1_000,
              max_concurrency: 1,
            },
          }),
        );
      });
      const cluster = new ctx.core.Cluster(
        { token: TOKEN, intents: ['Guilds'], apiUrl: rest.apiUrl },
        { logger: captureLogger() },
      );
      ctx.track('cluster', cluster);
      const outcome = await Promise.race([
        cluster.up().then(
          () => 'up',
          (error: unknown) => (error as Error).name,
        ),
        sleep(5_000).then(() => 'pending'),
      ]);
      ctx.fact('outcome', outcome);
      ctx.check(outcome === 'ConfigError', `up() ${outcome}`);
    },
  },
  {
    id: 'rest-reset-after-over-2^31-ms',
    defect: '11',
    source: 'REST API',
    input: "GET /gateway/bot: remaining 0, reset_after 2^31 + 5,000 ms, onBudgetExhausted 'wait'",
    outcome: 'survives: waits for the reset (a warning), no IDENTIFY before it',
    reconnects: 'no IDENTIFY until the reset',
    perMinute: '0',
    before: 'the 2^31 ms timer fired at once: an IDENTIFY with no budget left',
    async run(ctx) {
      const gw = await ctx.gateway();
      const rest = await ctx.rest((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            url: gw.url,
            shards: 1,
            session_start_limit: {
              total: 1000,
              remaining: 0,
              reset_after: 2 ** 31 + 5_000,
              max_concurrency: 1,
            },
          }),
        );
      });
      const logs = captureLogger();
      const cluster = new ctx.core.Cluster(
        {
          token: TOKEN,
          intents: ['Guilds'],
          apiUrl: rest.apiUrl,
          gatewayUrl: gw.url,
          compression: 'none',
          onBudgetExhausted: 'wait',
        },
        { logger: logs },
      );
      ctx.track('cluster', cluster);
      void cluster.up().catch(() => {});
      await sleep(1_500);
      ctx.fact('identifies', gw.record.identifies.length);
      ctx.check(
        gw.record.identifies.length === 0,
        `${gw.record.identifies.length} IDENTIFY before the reset`,
      );
      ctx.check(warns(logs, /budget/i) >= 1, 'no warning about the wait');
    },
  },
  {
    id: 'close-reason-ansi',
    defect: '12',
    source: 'gateway',
    input: 'a close frame whose reason holds ANSI escapes and a newline',
    outcome: 'survives: the reason is logged escaped, on one line',
    reconnects: 'yes, RESUME',
    perMinute: 'at most 8 in the first minute, then at most 2',
    before: 'logged raw: the escape sequences and a forged second line reached the log',
    async run(ctx) {
      const gw = await ctx.gateway();
      const { shard, events, logs } = ctx.shard(gw);
      await shard.connect();
      gw.connections[0]!.close(4000, '\u001b[2J\u001b[31mERROR\nforged line');
      await until(() => ofType(events, 'SHARD_RESUMED').length === 1);
      const lines = logs.lines.filter((l) => /ERROR/.test(l.message));
      ctx.fact('linesWithReason', lines.length);
      ctx.check(lines.length >= 1, 'the close reason was not logged');
      ctx.check(
        lines.every((l) => !hasControlCharacter(l.message)),
        'a control character reached the log',
      );
    },
  },
  {
    id: 'dispatch-name-ansi',
    defect: '12',
    source: 'gateway',
    input: 'a dispatch without s whose t holds ANSI escapes and a newline',
    outcome: 'surfaces ProtocolError; the name is logged escaped, on one line',
    reconnects: 'no',
    perMinute: '0',
    before: 'logged raw',
    async run(ctx) {
      const gw = await ctx.gateway();
      const { shard, logs } = ctx.shard(gw);
      await shard.connect();
      gw.connections[0]!.sendRaw(
        JSON.stringify({ op: 0, t: '\u001b[31mEVIL\nforged line', d: {} }),
      );
      await until(() => logs.lines.some((l) => /EVIL/.test(l.message)), 5_000);
      const lines = logs.lines.filter((l) => /EVIL/.test(l.message));
      ctx.fact('linesWithName', lines.length);
      ctx.check(lines.length >= 1, 'the dispatch name was not logged');
      ctx.check(
        lines.every((l) => !hasControlCharacter(l.message)),
        'a control character reached the log',
      );
    },
  },
  {
    id: 'sequence-jump',
    defect: '12',
    source: 'gateway',
    input: 'one dispatch with s = 999999999999999, then ordinary dispatches',
    outcome:
      'surfaces ProtocolError; resumes from the last good sequence; every later dispatch delivered',
    reconnects: 'yes, RESUME',
    perMinute: 'at most 8 in the first minute, then at most 2',
    before:
      'took the sequence: 0 of the 3 later dispatches delivered (dropped as duplicates, for the rest of the session)',
    async run(ctx) {
      const gw = await ctx.gateway();
      const { shard, events } = ctx.shard(gw, { reconnect: scaledReconnect });
      await shard.connect();
      const conn = gw.connections[0]!;
      const guild = gw.traffic.guilds[0]!;
      conn.sendRaw(
        JSON.stringify({
          op: 0,
          t: 'TYPING_START',
          s: 999_999_999_999_999,
          d: { channel_id: '1' },
        }),
      );
      await sleep(50);
      for (let i = 0; i < 3; i++)
        gw.connections[0]?.dispatch('MESSAGE_CREATE', gw.traffic.messageCreate(guild, `later${i}`));
      const delivered = await until(() => ofType(events, 'MESSAGE_CREATE').length >= 3, 5_000);
      ctx.fact('delivered', ofType(events, 'MESSAGE_CREATE').length);
      ctx.fact('errors', shardErrors(events).join(','));
      ctx.check(delivered, 'the later dispatches were dropped');
      ctx.check(shardErrors(events).includes('ProtocolError'), 'no ProtocolError');
      ctx.check(
        shard.session?.sequence !== 999_999_999_999_999,
        'the impossible sequence was kept',
      );
    },
  },
  {
    id: 'session-file-temp-leftover',
    defect: '12',
    source: 'session file',
    input:
      'a temp file left by a writer killed with kill -9 (`sessions.json.<dead pid>.<hex>.tmp`)',
    outcome: 'survives: deleted on the first load, with a warning',
    reconnects: 'not applicable',
    perMinute: 'not applicable',
    before: 'left in place',
    async run(ctx) {
      const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
      const path = join(dir, 'sessions.json');
      const leftover = `sessions.json.${deadPid()}.0123456789ab.tmp`;
      writeFileSync(join(dir, leftover), '{"version":1,"sess');
      const store = new ctx.core.FileSessionStore(path, captureLogger());
      await store.load(0, 1);
      const left = readdirSync(dir);
      ctx.fact('filesAfterLoad', left.length);
      ctx.check(!left.includes(leftover), 'the temp file is still there');
    },
  },
  {
    id: 'session-file-fsync',
    defect: '12',
    source: 'session file',
    input:
      'a save, watched at the file system calls (power loss after the rename would tear an unsynced file)',
    outcome: 'the temp file is fsynced before the rename',
    reconnects: 'not applicable',
    perMinute: 'not applicable',
    before: 'rename without fsync',
    async run(ctx) {
      const calls: string[] = [];
      const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
      const probe = await fsPromises.open(join(dir, 'probe'), 'w');
      const handleProto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
      await probe.close();
      const sync = handleProto.sync;
      handleProto.sync = function (this: unknown) {
        calls.push('fsync');
        return sync.call(this);
      };
      const promisesApi = createRequire(import.meta.url)(
        'node:fs/promises',
      ) as typeof fsPromises & {
        rename: typeof fsPromises.rename;
      };
      const rename = promisesApi.rename;
      promisesApi.rename = (async (from: string, to: string) => {
        calls.push('rename');
        return rename(from, to);
      }) as typeof rename;
      syncBuiltinESMExports();
      try {
        const store = new ctx.core.FileSessionStore(join(dir, 'sessions.json'), captureLogger());
        await store.save(0, 1, { id: 'abc', sequence: 1, resumeUrl: 'wss://gateway.discord.gg' });
      } finally {
        handleProto.sync = sync;
        promisesApi.rename = rename;
        syncBuiltinESMExports();
      }
      ctx.fact('calls', calls.join(' '));
      const renameAt = calls.indexOf('rename');
      ctx.check(
        renameAt > 0 && calls.slice(0, renameAt).includes('fsync'),
        'no fsync before the rename',
      );
    },
  },
  {
    id: 'ready-before-identify',
    defect: '12',
    source: 'gateway',
    input: 'a READY right after HELLO, before the shard sent IDENTIFY',
    outcome: 'surfaces ProtocolError; ignored: not Active until the READY of its IDENTIFY',
    reconnects: 'no',
    perMinute: '0',
    before: 'Active on the forged READY, with its session id',
    async run(ctx) {
      const gw = await ctx.gateway();
      // IDENTIFY waits 1 s for its turn; the forged READY comes at once.
      const slowQueue = { enqueue: () => sleep(1_000) };
      const { shard, events } = ctx.shard(gw, {}, { queue: slowQueue });
      void shard.connect().catch(() => {});
      await until(() => gw.connections.length === 1);
      gw.connections[0]!.sendRaw(JSON.stringify(readyPayload(gw.resumeUrl, 'forged-session')));
      await sleep(100);
      const stateAfterForged = shard.state;
      const active = await until(() => shard.state === ctx.core.ShardState.Active, 5_000);
      ctx.fact('stateAfterForgedReady', stateAfterForged);
      ctx.fact('sessionId', shard.session?.id ?? null);
      ctx.check(
        stateAfterForged !== ctx.core.ShardState.Active,
        'Active on a READY that answered no IDENTIFY',
      );
      ctx.check(active && shard.session?.id !== 'forged-session', 'the forged session was taken');
      ctx.check(shardErrors(events).includes('ProtocolError'), 'no ProtocolError');
    },
  },
  {
    id: 'zlib-message-over-128mib',
    defect: '12',
    source: 'gateway',
    input: 'a 130 KB zlib-stream frame that inflates to a 129 MiB GUILD_CREATE',
    outcome: 'surfaces DecodeError at the 128 MiB default cap; nothing delivered',
    reconnects: 'yes, RESUME',
    perMinute: 'at most 8 in the first minute, then at most 2',
    before: 'the 512 MiB caps let it through: the 129 MiB GUILD_CREATE was decoded and delivered',
    async run(ctx) {
      const gw = await ctx.gateway();
      const { shard, events } = ctx.shard(gw, {
        compression: 'zlib-stream',
        reconnect: scaledReconnect,
      });
      await shard.connect();
      const conn = gw.connections[0]!;
      const seq = (conn.session?.seq ?? 1) + 1;
      conn.sendRaw(
        zlibStreamBomb(`{"op":0,"t":"GUILD_CREATE","s":${seq},"d":{"id":"1","pad":"`, 129, '"}}'),
        { compress: false, binary: true },
      );
      const surfaced = await until(() => shardErrors(events).length > 0, 8_000);
      ctx.fact('errors', shardErrors(events).join(','));
      ctx.check(surfaced && shardErrors(events)[0] === 'DecodeError', 'no DecodeError');
      ctx.check(
        !ofType(events, 'GUILD_CREATE').some((e) => (e.data as { id?: string }).id === '1'),
        'the 129 MiB message was delivered',
      );
    },
  },
  {
    id: 'options-out-of-range',
    defect: '12',
    source: 'options',
    input: 'shardCount 10,000,000 and limits.maxFrameBytes 2^53',
    outcome: 'surfaces one ConfigError naming both',
    reconnects: 'no shard is made',
    perMinute: '0',
    before: 'shardCount 10,000,000 accepted (only the frame cap was refused)',
    async run(ctx) {
      let error: unknown = null;
      try {
        ctx.shard(
          { url: 'wss://gateway.discord.gg' },
          { shardId: 0, shardCount: 10_000_000, limits: { maxFrameBytes: 2 ** 53 } },
        );
      } catch (caught) {
        error = caught;
      }
      const paths = ((error as { issues?: { path: string }[] } | null)?.issues ?? []).map(
        (i) => i.path,
      );
      ctx.fact('paths', paths.join(','));
      ctx.check(error instanceof ctx.core.ConfigError, 'no ConfigError');
      ctx.check(
        paths.includes('shardCount') && paths.includes('limits.maxFrameBytes'),
        `ConfigError paths ${paths.join(', ')}`,
      );
    },
  },
];
