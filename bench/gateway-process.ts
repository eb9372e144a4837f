/**
 * The gateway side of the benchmark, in its own process: a FakeGateway whose sessions get a
 * pre-generated stream (the same events, so the same bytes, for every client of a run) as
 * fast as each client drains it.
 */
import type { Socket } from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import zlib from 'node:zlib';
import { FakeGateway, TrafficGenerator, type FakeConnection } from '../lib/testing/index.js';
import type { StreamCompressor } from '../lib/testing/compression.js';
import { etfEncoder } from '../lib/testing/etf-encoding.js';
import {
  BENCH_MIX,
  END_MARKER,
  GUILD_CREATE_EVERY,
  GUILD_CREATE_MEMBERS,
  type GatewayCommand,
  type GatewayReply,
  type GatewayStatus,
  type GeneratedStats,
} from './common.js';

interface StreamEvent {
  readonly t: string;
  readonly d: unknown;
}

/** Pause while more than this many bytes wait to go out on a connection. */
const HIGH_WATER_MARK = 256 * 1024;
const BATCH = 32;

let gateway: FakeGateway | null = null;
/** This process's event-loop delay: a starved gateway answers heartbeats late. */
let loopDelay: IntervalHistogram | null = null;
let stream: StreamEvent[] = [];
let warmupStream: StreamEvent[] = [];
let marker: StreamEvent | null = null;

function reply(message: GatewayReply): void {
  process.send?.(message);
}

function generate(traffic: TrafficGenerator, count: number, warmup: number): GeneratedStats {
  // The warmup has the stream's own mix, large GUILD_CREATEs included: a client meets every
  // frame size and code path before its window opens.
  const nextEvent = (i: number): StreamEvent =>
    i % GUILD_CREATE_EVERY === GUILD_CREATE_EVERY - 1
      ? {
          t: 'GUILD_CREATE',
          d: traffic.guildCreate(traffic.guilds[i % traffic.guilds.length], {
            members: GUILD_CREATE_MEMBERS,
          }),
        }
      : traffic.next();
  warmupStream = [];
  for (let i = 0; i < warmup; i++) warmupStream.push(nextEvent(i));
  const byType: Record<string, number> = {};
  let jsonBytes = 0;
  stream = [];
  for (let i = 0; i < count; i++) {
    const event = nextEvent(i);
    stream.push(event);
    byType[event.t] = (byType[event.t] ?? 0) + 1;
    jsonBytes += Buffer.byteLength(JSON.stringify({ t: event.t, s: i + 2, op: 0, d: event.d }));
  }
  marker = { t: 'MESSAGE_CREATE', d: traffic.messageCreate(traffic.guilds[0], END_MARKER) };
  // An end marker halfway through the warmup as well: every client runs its end-of-stream path
  // there, and V8 re-optimizes whatever that path deoptimized before the window opens, not in it.
  if (warmup > 0) warmupStream.splice(Math.floor(warmup / 2), 0, marker);
  return { events: count, jsonBytes, byType };
}

/** The stream's first sequence number: above anything the handshake used. */
const FIRST_SEQUENCE = 1_000;

/** Prepared frames per `encoding/compression`: built once, the same bytes for every client. */
const prepared = new Map<string, (string | Buffer)[]>();

/**
 * The stream (and its end marker) as ready-to-send frames, so that the gateway outruns every
 * client. For zlib-stream each message is compressed by one fresh raw-deflate context with a
 * sync flush per message: appended to a connection's zlib stream right after a flush, it is a
 * valid continuation (its back-references never reach before its own start).
 */
async function frames(encoding: string, compression: string | null): Promise<(string | Buffer)[]> {
  const key = `${encoding}/${compression ?? 'none'}`;
  const cached = prepared.get(key);
  if (cached !== undefined) return cached;
  // Warmup, its end marker, the measured stream, its end marker: one sequence, one context.
  const all = [...warmupStream, marker!, ...stream, marker!];
  const encoded = all.map((event, i) => {
    const payload = { t: event.t, s: FIRST_SEQUENCE + i, op: 0, d: event.d };
    return encoding === 'etf' ? etfEncoder.encode(payload) : JSON.stringify(payload);
  });
  let result: (string | Buffer)[] = encoded;
  if (compression === 'zlib-stream') {
    const deflate = zlib.createDeflateRaw();
    let chunks: Buffer[] = [];
    deflate.on('data', (chunk: Buffer) => chunks.push(chunk));
    result = [];
    for (const message of encoded) {
      deflate.write(typeof message === 'string' ? Buffer.from(message) : message);
      await new Promise<void>((resolve) =>
        deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()),
      );
      result.push(Buffer.concat(chunks));
      chunks = [];
    }
    deflate.close();
  } else if (compression !== null) {
    throw new Error(`pump: compress=${compression} is not supported by the benchmark`);
  }
  prepared.set(key, result);
  return result;
}

/** zstd-stream frames of one connection (see {@link connectionFrames}). */
const zstdPrepared = new WeakMap<FakeConnection, Buffer[]>();

/**
 * The stream as the frames of one connection. zstd-stream is one frame per connection whose
 * blocks carry entropy tables and repeat offsets forward, so no other context's output can be
 * appended to it: the messages go through the connection's own compressor (zstd-napi's
 * synchronous context, reached here in the bench only), once per connection, before 'go'.
 */
async function connectionFrames(connection: FakeConnection): Promise<(string | Buffer)[]> {
  const { encoding, compression } = connection.record;
  if (compression !== 'zstd-stream') return frames(encoding, compression);
  const cached = zstdPrepared.get(connection);
  if (cached !== undefined) return cached;
  const compressor = (connection as unknown as { compressor: StreamCompressor }).compressor;
  const result: Buffer[] = [];
  for (const message of await frames(encoding, null)) {
    compressor.compress(
      typeof message === 'string' ? Buffer.from(message) : message,
      (error, output) => {
        if (error !== null) throw error;
        result.push(output);
      },
    );
  }
  if (result.length !== warmupStream.length + stream.length + 2) {
    throw new Error('pump: the zstd compressor did not answer synchronously (zstd-napi expected)');
  }
  zstdPrepared.set(connection, result);
  return result;
}

/**
 * Streams `count` events of the warmup or the measured stream, then that stream's end marker.
 * The warmup must be pumped, whole (its halfway marker included), first: both streams are one
 * zlib/zstd stream.
 */
async function pump(
  connection: FakeConnection,
  phase: 'warmup' | 'main',
  count: number,
): Promise<number> {
  const all = await connectionFrames(connection);
  const list =
    phase === 'warmup' ? all.slice(0, warmupStream.length + 1) : all.slice(warmupStream.length + 1);
  if (phase === 'warmup') {
    const events = Math.max(0, warmupStream.length - 1);
    if (count !== events) throw new Error(`pump: the warmup is ${events} events, ${count} asked`);
    count = warmupStream.length;
  }
  const binary = connection.record.compression !== null || connection.record.encoding === 'etf';
  const options = { compress: false, binary };
  const events = list.length - 1;
  if (count > events) throw new Error(`pump: ${count} events asked, ${events} prepared`);
  // One write per batch instead of one per frame (as a busy gateway's TCP stream arrives):
  // FakeConnection keeps its ws private, so reach the socket under it here, in the bench only.
  const socket = (connection as unknown as { ws: { _socket: Socket } }).ws._socket;
  let sent = 0;
  while (sent < count && connection.isOpen) {
    if (connection.bufferedAmount > HIGH_WATER_MARK) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      continue;
    }
    socket.cork();
    for (let i = 0; i < BATCH && sent < count; i++, sent++) connection.sendRaw(list[sent], options);
    socket.uncork();
    await new Promise((resolve) => setImmediate(resolve));
  }
  connection.sendRaw(list[events], options);
  return sent;
}

async function onCommand(command: GatewayCommand): Promise<void> {
  switch (command.type) {
    case 'start': {
      const guildCount = Math.max(2, command.shards * 2);
      loopDelay = monitorEventLoopDelay({ resolution: 10 });
      loopDelay.enable();
      gateway = await FakeGateway.start({
        shards: command.shards,
        maxConcurrency: command.maxConcurrency,
        identifyWindowMs: command.identifyWindowMs,
        heartbeatIntervalMs: command.heartbeatIntervalMs,
        heartbeatGraceMs: 60_000,
        sessionStartLimit: { total: 1_000_000 },
        maxGuildsPerShard: 1_000_000,
        replayBufferSize: 100,
        recording: { maxPayloadsPerConnection: 8, maxConnections: 2_000, maxEntries: 2_000 },
        encodings: { etf: etfEncoder },
        traffic: { guildCount, mix: BENCH_MIX, membersPerGuild: 25 },
      });
      const traffic = new TrafficGenerator({
        seed: 7,
        guildCount: 8,
        mix: BENCH_MIX,
        membersPerGuild: 200,
      });
      const generated = generate(traffic, command.events, command.warmup);
      reply({
        type: 'started',
        url: gateway.url,
        apiUrl: gateway.apiUrl,
        token: FakeGateway.defaultToken,
        generated,
      });
      return;
    }
    case 'status':
      reply(status());
      return;
    case 'prepare': {
      for (const connection of await sessions(command.connections))
        await connectionFrames(connection);
      reply({ type: 'prepared' });
      return;
    }
    case 'pump': {
      const connections = open();
      // Every shard's stream at once, as a gateway serves them; each paced by its own socket.
      const sent = await Promise.all(
        connections.map((connection) => pump(connection, command.phase, command.count)),
      );
      reply({
        type: 'pumped',
        sent: sent.reduce((a, b) => a + b, 0),
        compression: connections[0].record.compression,
        encoding: connections[0].record.encoding,
      });
      return;
    }
    case 'stop':
      await gateway?.stop();
      process.exit(0);
  }
}

function status(): GatewayStatus {
  const record = gateway!.record;
  const open = gateway!.connections.filter((c) => c.isOpen && c.session !== null);
  let heartbeats = 0;
  let acks = 0;
  let lastOpenedAt = 0;
  for (const connection of record.connections) {
    heartbeats += connection.heartbeats;
    acks += connection.acks;
    lastOpenedAt = Math.max(lastOpenedAt, connection.openedAt);
  }
  const ms = (ns: number): number => Math.round(ns / 1e6);
  return {
    type: 'status',
    connections: record.connections.length,
    openSessions: open.length,
    identifies: record.identifies.length,
    resumes: record.resumes.length,
    heartbeats,
    acks,
    sessionsUnacked: open.filter((c) => c.record.acks === 0 || c.record.acks < c.record.heartbeats)
      .length,
    quietForMs: Math.round(gateway!.clock.now() - lastOpenedAt),
    loopDelayP99Ms: ms(loopDelay?.percentile(99) ?? 0),
    loopDelayMaxMs: ms(loopDelay?.max ?? 0),
  };
}

/** The open sessions: the client's shards. */
function open(): FakeConnection[] {
  return gateway!.connections.filter((c) => c.isOpen && c.session !== null);
}

/**
 * The client's `count` sessions, once exactly that many are open: the sockets of the previous
 * client may take a moment to be seen closed.
 */
async function sessions(count: number): Promise<FakeConnection[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const connections = open();
    if (connections.length === count) return connections;
    if (Date.now() > deadline)
      throw new Error(`prepare: ${connections.length} open sessions, want ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

process.on('message', (command: GatewayCommand) => {
  onCommand(command).catch((error: unknown) => {
    reply({
      type: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  });
});

// The orchestrator is gone: never outlive it.
process.on('disconnect', () => process.exit(0));
