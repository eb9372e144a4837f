/**
 * The chaos soak's gateway: a FakeGateway in a worker thread, driven by soak.ts through
 * {@link SoakRequest} messages. It injects the faults the soak picks and keeps, per gateway
 * session, the last sequence number and how the session ended, for the loss accounting.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FakeGateway, type FakeConnection, type TrafficStream } from '../lib/testing/index.js';
import {
  OUTAGE_STATUS,
  RESUME_DEAD_STATUS,
  type GapReport,
  type GatewaySummary,
  type SessionEnd,
  type SoakGatewayInit,
  type SoakRequest,
  type SoakResponse,
} from './soak-protocol.js';

const init = workerData as SoakGatewayInit;
const port = parentPort!;

interface Tracked {
  shardId: number;
  seq: number;
  end: SessionEnd | null;
}

/** Every session seen, by id. Sequences are polled, and exact where the soak ends a session. */
const sessions = new Map<string, Tracked>();
const gatewayErrors: string[] = [];
let gw: FakeGateway | null = null;
let traffic: TrafficStream | null = null;
let poll: NodeJS.Timeout | undefined;

process.on('uncaughtException', (error) => gatewayErrors.push(String(error?.stack ?? error)));
process.on('unhandledRejection', (error) => gatewayErrors.push(String(error)));

function pollSessions(): void {
  if (gw === null) return;
  for (const session of gw.sessions()) {
    const tracked = sessions.get(session.id);
    if (tracked === undefined)
      sessions.set(session.id, { shardId: session.shardId, seq: session.seq, end: null });
    else if (tracked.end === null) tracked.seq = session.seq;
  }
}

/** Ends the session of `connection` on the soak's order: its sequence is final from here. */
function ending(connection: FakeConnection, end: SessionEnd): void {
  const session = connection.session;
  if (session === null) return;
  sessions.set(session.id, { shardId: session.shardId, seq: session.seq, end });
}

function liveConnection(shardId: number): FakeConnection | null {
  const connection = gw!.connectionFor(shardId);
  return connection !== undefined && connection.live ? connection : null;
}

function applyFault(request: Extract<SoakRequest, { cmd: 'fault' }>): boolean {
  const c = liveConnection(request.shardId);
  if (c === null) return false;
  pollSessions();
  switch (request.fault) {
    case 'zombie':
      // A half-dead TCP connection: nothing reaches the client any more, not even ACKs.
      c.stopAcking();
      c.live = false;
      break;
    case 'op7':
      c.reconnect({ closeAfterMs: 3_000 });
      break;
    case 'op9-true':
      c.invalidateSession(true);
      break;
    case 'op9-false':
      ending(c, 'op9-false');
      c.invalidateSession(false);
      break;
    case 'close-4007':
    case 'close-4009':
      ending(c, request.fault);
      c.close(Number(request.fault.slice(6)), 'soak');
      break;
    case 'close-4000':
    case 'close-4001':
    case 'close-4002':
    case 'close-4003':
    case 'close-4005':
    case 'close-4008':
      c.close(Number(request.fault.slice(6)), 'soak');
      break;
    case 'drop-1006':
      c.terminate();
      break;
    case 'hello-delayed':
      gw!.nextConnections({ helloDelayMs: request.helloDelayMs });
      c.reconnect({ closeAfterMs: 3_000 });
      break;
    case 'ready-withheld-identify':
      gw!.nextConnections({ withholdReady: true });
      ending(c, 'op9-false');
      c.invalidateSession(false);
      break;
    case 'ready-withheld-resume':
      gw!.nextConnections({ withholdReady: true });
      c.reconnect({ closeAfterMs: 3_000 });
      break;
    case 'resume-url-dead':
      gw!.refuseUpgrades({
        listener: 'resume',
        durationMs: request.refuseMs,
        status: RESUME_DEAD_STATUS,
      });
      c.reconnect({ closeAfterMs: 3_000 });
      break;
    case 'op1-request':
      c.requestHeartbeat({ deadlineMs: 2 * init.heartbeatIntervalMs });
      break;
    case 'huge-guild-create':
      c.sendMalformed('huge', { bytes: request.hugeBytes });
      break;
    default:
      c.sendMalformed(request.fault);
  }
  return true;
}

function summary(): GatewaySummary {
  pollSessions();
  const record = gw!.record;
  const connectionSession = new Map<number, string | null>();
  for (const connection of record.connections)
    connectionSession.set(connection.id, connection.sessionId);
  const endIfOpen = (id: string | null | undefined, end: SessionEnd): void => {
    const tracked = id == null ? undefined : sessions.get(id);
    if (tracked !== undefined && tracked.end === null) tracked.end = end;
  };
  const violations: Record<string, number> = {};
  for (const violation of record.violations) {
    violations[violation.kind] = (violations[violation.kind] ?? 0) + 1;
    if (violation.kind === 'session-timeout' && violation.connectionId !== null)
      endIfOpen(connectionSession.get(violation.connectionId), 'heartbeat-timeout-4009');
  }
  for (const resume of record.resumes) {
    if (resume.outcome === 'invalid-session') endIfOpen(resume.sessionId, 'resume-rejected');
    if (resume.outcome === 'invalid-seq') endIfOpen(resume.sessionId, 'close-4007');
  }
  for (const connection of record.connections) {
    if (
      connection.closedBy === 'client' &&
      (connection.clientCloseCode === 1000 || connection.clientCloseCode === 1001)
    )
      endIfOpen(connection.sessionId, 'client-close-1000');
  }
  const alive = new Set(gw!.sessions().map((s) => s.id));
  for (const id of sessions.keys()) if (!alive.has(id)) endIfOpen(id, 'vanished');
  let answeredInTime = 0;
  let late = 0;
  let pending = 0;
  for (const request of record.heartbeatRequests) {
    if (request.inTime === true) answeredInTime++;
    else if (request.inTime === false) late++;
    else pending++;
  }
  return {
    sessions: [...sessions].map(([id, s]) => ({ id, shardId: s.shardId, seq: s.seq, end: s.end })),
    identifies: record.identifies.map((i) => ({
      shardId: i.shardId,
      outcome: i.outcome,
      sessionId: i.sessionId,
    })),
    resumes: record.resumes.map((r) => ({
      sessionId: r.sessionId,
      outcome: r.outcome,
      listener: r.listener,
    })),
    connections: record.connections.length,
    heartbeatRequests: { answeredInTime, late, pending },
    violations,
    gatewayErrors,
  };
}

async function handle(request: SoakRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'start':
      gw = await FakeGateway.start({
        tokens: [init.token],
        shards: init.shards,
        maxConcurrency: init.shards,
        identifyWindowMs: init.identifyWindowMs,
        heartbeatIntervalMs: init.heartbeatIntervalMs,
        heartbeatGraceMs: init.heartbeatGraceMs,
        sessionStartLimit: { total: 1_000_000 },
        replayBufferSize: init.replayBufferSize,
        traffic: { seed: init.seed, guildCount: 4 * init.shards },
        // Long runs: keep the record small (counts stay exact).
        recording: { maxPayloadsPerConnection: 0, maxConnections: 50_000, maxEntries: 50_000 },
      });
      poll = setInterval(pollSessions, 10);
      return { apiUrl: gw.apiUrl, url: gw.url };
    case 'traffic':
      if (request.on && traffic === null)
        traffic = gw!.startTraffic({ ratePerSecond: init.trafficPerSecond });
      if (!request.on && traffic !== null) {
        traffic.stop();
        traffic = null;
      }
      return null;
    case 'fault':
      return applyFault(request);
    case 'outage': {
      const startedAt = gw!.clock.now();
      gw!.refuseUpgrades({ durationMs: request.refuseMs, status: OUTAGE_STATUS });
      for (const connection of gw!.connections) connection.terminate();
      return startedAt;
    }
    case 'refusedSince':
      return gw!.record.upgrades.filter(
        (u) => u.at >= request.startedAt && u.outcome === 'refused' && u.status === request.status,
      ).length;
    case 'sequences':
      pollSessions();
      return gw!.sessions().map((s) => ({ id: s.id, shardId: s.shardId, seq: s.seq }));
    case 'summary':
      return summary();
    case 'gap': {
      const session = gw!.sessions().find((s) => s.id === request.sessionId);
      const entries = (session?.buffer.tail(init.replayBufferSize) ?? []).filter(
        (e) => e.s > request.after && e.s < request.got,
      );
      const sessionEvents = entries.filter((e) => e.t === 'READY' || e.t === 'RESUMED').length;
      return {
        known: entries.length === request.got - request.after - 1,
        // A dispatch without a name (injected fault) takes a sequence but is never delivered.
        replayable: entries
          .filter((e) => e.t !== null && e.t !== 'READY' && e.t !== 'RESUMED')
          .map((e) => `${e.t} s=${e.s}`),
        sessionEvents,
      } satisfies GapReport;
    }
    case 'stop': {
      traffic?.stop();
      clearInterval(poll);
      const final = gw === null ? null : summary();
      await gw?.stop();
      return final;
    }
  }
}

port.on('message', (message: { id: number; request: SoakRequest }) => {
  handle(message.request).then(
    (value) => {
      port.postMessage({ id: message.id, ok: true, value } satisfies SoakResponse);
      if (message.request.cmd === 'stop') port.close();
    },
    (error: unknown) => {
      port.postMessage({
        id: message.id,
        ok: false,
        error: String((error as Error)?.stack ?? error),
      } satisfies SoakResponse);
    },
  );
});
