import { Injectable } from '@nestjs/common';
import { Registry } from 'prom-client';
import {
  EventType,
  GatewayModule,
  OnGatewayEvent,
  ShardState,
  type GatewayEvent,
} from 'nestjs-discord-gateway';
import { GatewayMetrics } from 'nestjs-discord-gateway/metrics';
import { FakeGateway } from 'nestjs-discord-gateway/testing';
import {
  boot,
  gatewayOptions,
  messageData,
  typingData,
  type BootedApp,
} from '../nest/app/harness.js';
import { scrape, select, value, type Sample } from './scrape.js';

/** Waits in real time until `condition` holds. */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > 10_000) throw new Error(`${what} did not happen in 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

@Injectable()
class MessageHandlers {
  readonly seen: string[] = [];

  @OnGatewayEvent(EventType.MessageCreate)
  onMessage(message: { content: string }, event: GatewayEvent): void {
    this.seen.push(`${event.shardId}:${message.content}`);
    if (message.content === 'boom') throw new Error('handler failure on purpose');
  }
}

/**
 * Bytes of the payloads the fake sent (the wire form `{t, s, op, d}`, JSON) that the client
 * read: on each connection, up to an op 7 or op 9, on which the client leaves the connection
 * (an ACK the fake sends after it is never read).
 */
function payloadBytesRead(gateway: FakeGateway): number {
  let bytes = 0;
  for (const connection of gateway.record.connections) {
    expect(connection.sent).toHaveLength(connection.sentCount); // nothing dropped from the record
    for (const { t, s, op, d } of connection.sent) {
      bytes += Buffer.byteLength(JSON.stringify({ t, s, op, d }));
      if (op === 7 || op === 9) break;
    }
  }
  return bytes;
}

const M = 'discord_gateway_';
const HEARTBEAT_MS = 1_500;
/** DMs of the harness's payloads, without the DirectMessages intent check. */
const TO_SHARD_0 = { shardId: 0, applyIntents: false } as const;

describe('GatewayMetrics after a FakeGateway session (Nest module, two shards)', () => {
  let gateway: FakeGateway;
  let booted: BootedApp | undefined;

  afterEach(async () => {
    await booted?.app.close();
    booted = undefined;
    await gateway.stop();
  });

  async function start(
    registry: Registry,
    compression: 'zlib-stream' | 'none',
  ): Promise<BootedApp> {
    gateway = await FakeGateway.start({
      shards: 2,
      maxConcurrency: 2,
      identifyWindowMs: 500,
      // Long enough that a loaded machine never makes a connection look like a zombie (which
      // would add a reconnect to the exact counts), short enough for a few ACKs per test.
      heartbeatIntervalMs: HEARTBEAT_MS,
      // Every ACK in the wire form, so the record's payloads re-encode to the bytes sent.
      ackForm: 'wire',
      traffic: { guildCount: 2, membersPerGuild: 3 },
    });
    booted = await boot(gateway, {
      gateway: GatewayModule.forRoot(
        gatewayOptions(gateway, {
          shards: { from: 0, to: 1, shardCount: 2 },
          identifyWindowMs: 500,
          invalidSessionDelayMs: { min: 0, max: 0 },
          // The fake's send window, scaled to its short heartbeat (see the README).
          limits: { commandWindowMs: Math.round((60_000 * HEARTBEAT_MS) / 41_250) },
          compression,
          metrics: new GatewayMetrics({ registry }),
        }),
      ),
      providers: [MessageHandlers],
    });
    await booted.cluster.waitUntilReady();
    return booted;
  }

  it('counts a reconnect, a resume, a rejected resume, a skipped dispatch and a handler error', async () => {
    const registry = new Registry();
    const { cluster, app } = await start(registry, 'zlib-stream');
    const handlers = app.get(MessageHandlers);

    // Shard 0: a message, a failing one, and a TYPING_START nobody handles.
    gateway.dispatch('MESSAGE_CREATE', messageData('hello'), TO_SHARD_0);
    gateway.dispatch('MESSAGE_CREATE', messageData('boom'), TO_SHARD_0);
    gateway.dispatch('TYPING_START', typingData(), TO_SHARD_0);
    await until(() => handlers.seen.length === 2, 'both messages handled');

    // op 7 on shard 0: it reconnects and RESUMEs.
    const resumed = () =>
      cluster.info().every((shard) => shard.state === ShardState.Active) &&
      gateway.record.resumes.length;
    gateway.connectionFor(0)!.reconnect();
    await until(() => resumed() === 1, 'shard 0 resumed');
    // A message after the resume arrives on the new connection.
    gateway.dispatch('MESSAGE_CREATE', messageData('after resume'), TO_SHARD_0);
    await until(() => handlers.seen.length === 3, 'the third message handled');

    // op 7 on shard 1, whose RESUME the gateway then refuses (op 9 false): it identifies.
    gateway.nextConnections({ readyDelayMs: 60_000 });
    gateway.connectionFor(1)!.reconnect();
    await until(
      () => cluster.info()[1].state === ShardState.Resuming && gateway.record.resumes.length === 2,
      'shard 1 resuming',
    );
    gateway.connectionFor(1)!.invalidateSession(false);
    await until(
      () =>
        gateway.record.identifies.length === 3 &&
        cluster.info().every((shard) => shard.state === ShardState.Active),
      'shard 1 identified again',
    );

    // Every dispatch the gateway sent has arrived (each shard's sequence is its session's
    // last), and each shard has a heartbeat round trip.
    await until(
      () =>
        [0, 1].every((id) => {
          const info = cluster.info()[id];
          return info.sequence === gateway.sessionFor(id)!.seq && info.latency.recent.length > 0;
        }),
      'every dispatch received and a heartbeat ACK on each shard',
    );
    const samples = await scrape(registry);
    const count = (name: string, labels = {}) => value(samples, M + name, labels);

    // Connections: 2 at start, shard 0's resume, shard 1's resume and its new session.
    expect(count('connections_total')).toBe(5);
    expect(gateway.record.connections).toHaveLength(5);
    // The client closes with 4000 to reconnect (never 1000/1001, which would end the session).
    expect(count('reconnects_total', { cause: 'reconnect-requested', code: '4000' })).toBe(2);
    expect(count('reconnects_total', { cause: 'invalid-session', code: '4000' })).toBe(1);
    expect(select(samples, `${M}reconnects_total`)).toHaveLength(2);
    expect(count('identifies_total')).toBe(3);
    expect(count('resumes_total')).toBe(2);
    expect(count('resumes_rejected_total')).toBe(1);
    expect(count('identify_queue_wait_seconds_count')).toBe(3);
    // Two buckets: the first IDENTIFY of each goes at once.
    expect(count('identify_queue_wait_seconds_bucket', { le: '0.1' })).toBeGreaterThanOrEqual(2);

    // Dispatches by type: exactly what the gateway sent (each sequence once); the TYPING_START
    // nobody asked for was skipped by the decode filter, the handled MESSAGE_CREATEs were not.
    const sentByType = new Map<string, number>();
    for (const dispatch of gateway.record.dispatchesSent()) {
      sentByType.set(dispatch.t!, (sentByType.get(dispatch.t!) ?? 0) + 1);
    }
    expect(sentByType.get('MESSAGE_CREATE')).toBe(3);
    expect(sentByType.get('TYPING_START')).toBe(1);
    expect(sentByType.get('READY')).toBe(3);
    expect(sentByType.get('RESUMED')).toBe(1);
    const counted = new Map(
      select(samples, `${M}dispatches_total`).map((s) => [s.labels.type, s.value] as const),
    );
    expect(counted).toEqual(sentByType);
    expect(count('dispatches_skipped_total', { type: 'TYPING_START' })).toBe(1);
    expect(count('dispatches_skipped_total', { type: 'MESSAGE_CREATE' })).toBe(0);
    expect(count('dispatches_skipped_total', { type: 'READY' })).toBe(0);

    // The handler: three calls, one of them threw.
    const handler = { handler: 'MessageHandlers.onMessage' };
    expect(count('handler_invocations_total', handler)).toBe(3);
    expect(count('handler_errors_total', handler)).toBe(1);
    expect(count('handler_duration_seconds_count', handler)).toBe(3);
    expect(count('handler_duration_seconds_bucket', { ...handler, le: '+Inf' })).toBe(3);
    const buckets = select(samples, `${M}handler_duration_seconds_bucket`, handler).map(
      (s) => s.value,
    );
    expect(buckets).toHaveLength(12);
    expect([...buckets].sort((a, b) => a - b)).toEqual(buckets); // cumulative
    expect(count('handler_duration_seconds_sum', handler)).toBeGreaterThan(0);
    // The same series through prom-client's JSON form, typed as Prometheus types them.
    const json = await registry.getMetricsAsJSON();
    expect(json.find((m) => m.name === `${M}handler_duration_seconds`)?.type).toBe('histogram');
    expect(json.find((m) => m.name === `${M}handler_errors_total`)?.type).toBe('counter');

    // Per shard: the state (one-hot), the latest heartbeat round trip, the sequence's age.
    for (const shard of ['0', '1']) {
      expect(count('shard_state', { shard, state: 'ACTIVE' })).toBe(1);
      expect(select(samples, `${M}shard_state`, { shard })).toHaveLength(7);
      expect(
        select(samples, `${M}shard_state`, { shard }).reduce((sum, s) => sum + s.value, 0),
      ).toBe(1);
      expect(count('shard_sequence_age_seconds', { shard })).toBeGreaterThanOrEqual(0);
    }
    const latency = select(samples, `${M}shard_latency_seconds`);
    expect(latency.map((s) => s.labels.shard).sort()).toEqual(['0', '1']);
    for (const { value: seconds } of latency) expect(seconds).toBeLessThan(1);
    // No counter carries a shard label (cardinality: shards x types).
    const counterNames = samples
      .filter((s) => s.name.endsWith('_total') || /_(bucket|sum|count)$/.test(s.name))
      .filter((s) => 'shard' in s.labels);
    expect(counterNames).toEqual([]);

    // The daily budget as the client's queue counts it, equal to the gateway's own count.
    const gatewayBot = (await (
      await fetch(`${gateway.apiUrl}/gateway/bot`, {
        headers: { authorization: `Bot ${FakeGateway.defaultToken}` },
      })
    ).json()) as { session_start_limit: { remaining: number } };
    expect(count('identify_budget_remaining')).toBe(gatewayBot.session_start_limit.remaining);
    expect(count('identify_budget_remaining')).toBe(1000 - 3);

    // Bytes: compressed on the wire, fewer than inflated; inflated = every payload the gateway
    // sent that the client read, once the heartbeat ACKs in flight have arrived.
    let last: Sample[] = samples;
    await until(async () => {
      last = await scrape(registry);
      return value(last, `${M}inflated_bytes_total`) === payloadBytesRead(gateway);
    }, 'inflated bytes equal to the bytes the client read');
    const wire = value(last, `${M}received_bytes_total`);
    expect(wire).toBeGreaterThan(0);
    expect(wire).toBeLessThan(value(last, `${M}inflated_bytes_total`));
    // Heartbeats: one latency sample per ACK the client read.
    await until(async () => {
      last = await scrape(registry);
      const acks = gateway.record.connections.reduce((sum, connection) => {
        const left = connection.sent.findIndex((p) => p.op === 7 || p.op === 9);
        const read = left === -1 ? connection.sent : connection.sent.slice(0, left);
        return sum + read.filter((p) => p.op === 11).length;
      }, 0);
      return value(last, `${M}heartbeat_latency_seconds_count`) === acks && acks > 0;
    }, 'one latency sample per ACK read');
  }, 30_000);

  it('without compression, the wire bytes are the inflated bytes', async () => {
    const registry = new Registry();
    const { app } = await start(registry, 'none');
    gateway.dispatch('MESSAGE_CREATE', messageData('plain'), TO_SHARD_0);
    await until(() => app.get(MessageHandlers).seen.length === 1, 'the message handled');
    let samples: Sample[] = [];
    await until(async () => {
      samples = await scrape(registry);
      return value(samples, `${M}inflated_bytes_total`) === payloadBytesRead(gateway);
    }, 'inflated bytes equal to the bytes the client read');
    expect(value(samples, `${M}received_bytes_total`)).toBe(
      value(samples, `${M}inflated_bytes_total`),
    );
  }, 20_000);
});
