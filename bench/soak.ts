/**
 * Chaos soak (issue 6): a Cluster of 8 shards against a FakeGateway (in a worker thread) with
 * a realistic traffic mix and random faults from a seeded generator, then a table of checks.
 *
 *   npm run soak -- --seconds 45 --seed 1      the short run CI checks
 *   npm run soak -- --minutes 10 --seed 7      a long run (RELIABILITY.md)
 *
 * The seed fixes the faults, their order, targets and spacing, the traffic and the client's
 * jitter; the run is real time, so which connection a fault meets can still differ between
 * two runs of one seed. Exit code 1 when any check fails.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { inspect } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Cluster } from '../lib/gateway/cluster/cluster.js';
import { EventType } from '../lib/gateway/events/event-type.js';
import type { GatewayEvent } from '../lib/gateway/events/gateway-event.js';
import type { GatewayLogger } from '../lib/gateway/logger.js';
import { ShardState } from '../lib/gateway/shard/shard-state.js';
import {
  OUTAGE_STATUS,
  type GapReport,
  type GatewaySummary,
  type SessionEnd,
  type ShardFault,
  type SoakGatewayInit,
  type SoakRequest,
  type SoakResponse,
} from './soak-protocol.js';

// ---- settings -------------------------------------------------------------------------------

const SHARDS = 8;
const HEARTBEAT_INTERVAL_MS = 1_000;
/** The gateway closes a client silent for interval + grace with 4009 (GW-HB-7). */
const HEARTBEAT_GRACE_MS = 5_000;
/** The client's identify window is wider than the gateway's: network delay never trips op 9. */
const GATEWAY_IDENTIFY_WINDOW_MS = 500;
const CLIENT_IDENTIFY_WINDOW_MS = 1_000;
const TRAFFIC_PER_SECOND = 250;
const REPLAY_BUFFER = 3_000;
const TIMEOUTS = { connectMs: 3_000, helloMs: 2_000, readyMs: 3_000, guildsReadyMs: 2_000 };
const RECONNECT = { baseDelayMs: 200, maxDelayMs: 2_000 };
const INVALID_SESSION_DELAY = { min: 100, max: 500 };
const OUTAGE_MS = 3_000;
const RESUME_DEAD_MS = 2_500;
const HUGE_BYTES = 3 * 1024 * 1024;
/** A shard not Active again this long after a disruptive fault is stuck. */
const RECOVERY_TIMEOUT_MS = 30_000;
/** Heap growth allowed between the two measurements of the CI-length run. */
const HEAP_GROWTH_LIMIT = 0.1;

/** Faults that end the connection; the others leave the shard Active. */
const DISRUPTIVE: ReadonlySet<string> = new Set<ShardFault>([
  'zombie',
  'op7',
  'op9-true',
  'op9-false',
  'close-4000',
  'close-4001',
  'close-4002',
  'close-4003',
  'close-4005',
  'close-4007',
  'close-4008',
  'close-4009',
  'drop-1006',
  'hello-delayed',
  'ready-withheld-identify',
  'ready-withheld-resume',
  'resume-url-dead',
  'bad-json',
  'invalid-utf8',
  'binary-garbage',
  'corrupt-zlib',
]);
const SHARD_FAULTS: readonly ShardFault[] = [
  ...(DISRUPTIVE as ReadonlySet<ShardFault>),
  'op1-request',
  'wrong-shape',
  'unknown-op',
  'dispatch-without-t',
  'dispatch-without-s',
  'seq-backwards',
  'huge-guild-create',
];
type Fault = ShardFault | 'user-close' | 'outage';
const ALL_FAULTS: readonly Fault[] = [...SHARD_FAULTS, 'user-close', 'outage'];
/** Relative weights in the random phase (1 unless listed). */
const WEIGHTS: Partial<Record<Fault, number>> = { outage: 0.3, 'huge-guild-create': 0.5 };
/**
 * How a session ended: the gateway's view, or, where the gateway still kept it, the client's:
 * `user-close-1000-unseen` (the user closed with 1000, but the gateway never learnt which
 * session that ended, so it kept it until it expired) and `resumes-given-up` (3 RESUMEs in a
 * row ended before RESUMED, so the shard identified a new session, GW-GT-13).
 */
type End = SessionEnd | 'user-close-1000-unseen' | 'resumes-given-up';
/** Session ends after which a new IDENTIFY is required (the session cannot be resumed). */
const SESSION_OVER: ReadonlySet<End> = new Set<End>([
  'op9-false',
  'close-4007',
  'close-4009',
  'heartbeat-timeout-4009',
  'resume-rejected',
  'client-close-1000',
  'user-close-1000-unseen',
  'resumes-given-up',
]);
/** Labels of the legitimate ends, in the order the table lists them. */
const END_LABELS: Readonly<Partial<Record<End, string>>> = {
  'op9-false': 'op 9 d=false (also READY withheld)',
  'close-4007': 'close 4007',
  'close-4009': 'close 4009',
  'heartbeat-timeout-4009': 'late heartbeats (4009)',
  'resume-rejected': 'RESUME refused',
  'client-close-1000': 'user close(1000)',
  'user-close-1000-unseen': 'user close(1000) the gateway never saw',
  'resumes-given-up': '3 failed RESUMEs, new session (GW-GT-13)',
};
/** RESUMEs in a row that end before RESUMED, after which a shard identifies (GW-GT-13). */
const MAX_FAILED_RESUMES = 3;

// ---- arguments and randomness -------------------------------------------------------------

function parseArgs(argv: string[]): { durationMs: number; seed: number; verbose: boolean } {
  let durationMs = 45_000;
  let seed = Date.now() % 1_000_000;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    if (flag === '--verbose') verbose = true;
    else if (flag === '--minutes' || flag === '--seconds' || flag === '--seed') {
      if (!Number.isFinite(value) || value < 0) throw new Error(`${flag} needs a number`);
      if (flag === '--minutes') durationMs = value * 60_000;
      else if (flag === '--seconds') durationMs = value * 1_000;
      else seed = Math.floor(value);
      i++;
    } else
      throw new Error(
        `unknown argument ${flag} (--minutes N | --seconds N | --seed S | --verbose)`,
      );
  }
  return { durationMs, seed, verbose };
}

/** mulberry32: small, seedable, uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

// ---- the gateway worker -------------------------------------------------------------------

class GatewayWorker {
  readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();

  constructor(init: SoakGatewayInit, onError: (error: unknown) => void) {
    this.worker = new Worker(new URL('./soak-gateway.js', import.meta.url), { workerData: init });
    this.worker.on('message', (response: SoakResponse) => {
      const waiter = this.pending.get(response.id);
      this.pending.delete(response.id);
      if (response.ok) waiter?.resolve(response.value);
      else waiter?.reject(new Error(`gateway worker: ${response.error}`));
    });
    this.worker.on('error', onError);
  }

  call<T>(request: SoakRequest): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, request });
    });
  }
}

// ---- token leak scanner -------------------------------------------------------------------

class LeakScanner {
  readonly hits: string[] = [];
  scanned = 0;

  constructor(private readonly marker: string) {}

  text(where: string, text: string): void {
    this.scanned++;
    if (text.includes(this.marker) && this.hits.length < 20) this.hits.push(where);
  }

  /** util.inspect and JSON.stringify of `value`; for errors also message, stack and causes. */
  value(where: string, value: unknown, deep = false): void {
    this.text(`${where} (inspect)`, inspect(value, { depth: 8 }));
    if (deep) {
      // Past custom inspectors and into non-enumerable fields: what a debugger would show.
      this.text(
        `${where} (inspect, no custom inspect)`,
        inspect(value, { depth: 6, showHidden: true, customInspect: false }),
      );
    }
    try {
      this.text(`${where} (JSON)`, JSON.stringify(value) ?? '');
    } catch {
      // circular: inspect above covered it
    }
    for (let error = value, depth = 0; error instanceof Error && depth < 5; depth++) {
      this.text(`${where} (message)`, error.message);
      this.text(`${where} (stack)`, error.stack ?? '');
      error = (error as { cause?: unknown }).cause;
    }
  }
}

// ---- the soak -----------------------------------------------------------------------------

interface Tally {
  id: string;
  shardId: number;
  last: number;
  received: number;
  duplicates: number;
}

interface Row {
  check: string;
  value: string;
  limit: string;
  ok: boolean | null;
}

/** A check that passes when a count is 0. */
function mustBeZero(check: string, count: number): Row {
  return { check, value: String(count), limit: '0', ok: count === 0 };
}

async function main(): Promise<number> {
  // A run that ends by running out of work (a lost promise) must not pass.
  process.exitCode = 3;
  // stdout and stderr get their handles on first use (pipes when piped): open them first.
  void process.stdout.writableLength;
  void process.stderr.writableLength;
  const baselineResources = process.getActiveResourcesInfo();
  const { durationMs, seed, verbose } = parseArgs(process.argv.slice(2));
  const random = prng(seed);
  const jitter = prng(seed ^ 0x5bd1e995);
  const marker = `soak${seed}m${randomBytes(12).toString('hex')}`;
  const scanner = new LeakScanner(marker);
  // The detector must see the marker where it is: in an error's message, stack and JSON.
  const canary = new LeakScanner(marker);
  canary.value('canary', new Error(`token ${marker}`));
  const detectorWorks = canary.hits.length > 0;
  const startedAt = Date.now();
  console.log(
    `chaos soak: seed ${seed}, ${durationMs / 1_000} s, ${SHARDS} shards, ${TRAFFIC_PER_SECOND} events/s` +
      ` (replay: npm run soak -- --seconds ${durationMs / 1_000} --seed ${seed})`,
  );

  let unhandledRejections = 0;
  let uncaughtExceptions = 0;
  let workerErrors = 0;
  process.on('unhandledRejection', (reason) => {
    unhandledRejections++;
    scanner.value('unhandled rejection', reason);
    console.error('unhandled rejection:', reason);
  });
  process.on('uncaughtException', (error) => {
    uncaughtExceptions++;
    scanner.value('uncaught exception', error);
    console.error('uncaught exception:', error);
  });

  // Every log line, every level, is scanned as it is written; the last ones are kept for a report.
  const recentLogs: string[] = [];
  const logCounts = { debug: 0, log: 0, warn: 0, error: 0 };
  /** The shard's own word that it gave up resuming, to cross-check the soak's model of it. */
  let givenUpLogged = 0;
  const capture =
    (level: keyof typeof logCounts) =>
    (message: string, error?: unknown): void => {
      logCounts[level]++;
      if (message.includes('times in a row; identifying a new session')) givenUpLogged++;
      scanner.text(`log line (${level})`, message);
      if (error !== undefined) scanner.value(`logged error (${level})`, error);
      recentLogs.push(`${level} ${message}${error === undefined ? '' : ` ${String(error)}`}`);
      if (recentLogs.length > 300) recentLogs.shift();
      if (verbose && level !== 'debug') console.log(`  [${level}] ${message}`);
    };
  const logger: GatewayLogger = {
    debug: capture('debug'),
    log: capture('log'),
    warn: capture('warn'),
    error: capture('error'),
  };

  const gateway = new GatewayWorker(
    {
      token: marker,
      seed,
      shards: SHARDS,
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      heartbeatGraceMs: HEARTBEAT_GRACE_MS,
      identifyWindowMs: GATEWAY_IDENTIFY_WINDOW_MS,
      trafficPerSecond: TRAFFIC_PER_SECOND,
      replayBufferSize: REPLAY_BUFFER,
    },
    (error) => {
      workerErrors++;
      console.error('gateway worker error:', error);
    },
  );
  const { apiUrl } = await gateway.call<{ apiUrl: string }>({ cmd: 'start' });

  const cluster = new Cluster(
    {
      token: `Bot ${marker}`,
      intents: [
        'Guilds',
        'GuildMembers',
        'GuildMessages',
        'GuildMessageReactions',
        'GuildMessageTyping',
        'GuildPresences',
        'MessageContent',
        'GuildVoiceStates',
      ],
      apiUrl,
      identifyWindowMs: CLIENT_IDENTIFY_WINDOW_MS,
      timeouts: TIMEOUTS,
      reconnect: RECONNECT,
      invalidSessionDelayMs: INVALID_SESSION_DELAY,
    },
    { logger, random: jitter },
  );

  // ---- what the client delivers ----
  const tallies = new Map<string, Tally>();
  const current = new Map<number, string>();
  const errorsByType = new Map<string, number>();
  const connecting = new Map<number, number[]>();
  const handshakeHooks = new Map<number, (state: ShardState) => void>();
  let dispatches = 0;
  /** Where a session's sequence jumped, and what the gateway had in between. */
  const gapChecks: Promise<{
    sessionId: string;
    shardId: number;
    after: number;
    got: number;
    type: string;
    context: string[];
    report: GapReport;
  }>[] = [];
  let unsequenced = 0;
  let fatal = 0;
  let outOfSession = 0;
  /**
   * GW-GT-13, modelled from the lifecycle rather than taken from the shard's word: per shard,
   * RESUMEs in a row that ended before RESUMED (Resuming -> Disconnected). When the shard
   * then identifies, the session it gave up on counts as ended by the rule, not abandoned.
   */
  const failedResumes = new Map<number, number>();
  const givenUp = new Set<string>();
  cluster.addListener((event: GatewayEvent) => {
    const type = event.type as string;
    if (event.sequence !== null) {
      dispatches++;
      if (type === 'READY') {
        const id = (event.data as { session_id: string }).session_id;
        current.set(event.shardId, id);
        tallies.set(id, {
          id,
          shardId: event.shardId,
          last: 0,
          received: 0,
          duplicates: 0,
        });
      }
      const tally = tallies.get(current.get(event.shardId) ?? '');
      if (tally === undefined) outOfSession++;
      else {
        tally.received++;
        const s = event.sequence;
        if (s <= tally.last) tally.duplicates++;
        else {
          if (s > tally.last + 1) {
            const gap = { sessionId: tally.id, shardId: event.shardId, after: tally.last, got: s };
            const context = recentLogs
              .filter((l) => l.includes(`Shard ${event.shardId}/`))
              .slice(-15);
            gapChecks.push(
              gateway
                .call<GapReport>({ cmd: 'gap', ...gap })
                .then((report) => ({ ...gap, type, context, report })),
            );
          }
          tally.last = s;
        }
      }
      if (dispatches % 64 === 0) scanner.text('dispatch event (JSON)', JSON.stringify(event));
      return;
    }
    if (!type.startsWith('SHARD_') && !type.startsWith('CLUSTER_')) {
      unsequenced++;
      return;
    }
    scanner.value(`${type} event`, event);
    if (type === EventType.ShardError) {
      const error = (event.data as { error: Error }).error;
      const name = `${error.constructor.name} (${(error as { code?: string }).code ?? '-'})`;
      errorsByType.set(name, (errorsByType.get(name) ?? 0) + 1);
    } else if (type === EventType.ShardFatal) fatal++;
    else if (type === EventType.ShardDisconnected) {
      const failed = failedResumes.get(event.shardId) ?? 0;
      if ((event.data as { next: string }).next === 'identify') {
        const session = current.get(event.shardId);
        if (failed >= MAX_FAILED_RESUMES && session !== undefined) givenUp.add(session);
        failedResumes.set(event.shardId, 0);
      }
    } else if (type === EventType.ShardStateChanged) {
      const { previous, state } = event.data as { previous: ShardState; state: ShardState };
      if (state === ShardState.Active) failedResumes.set(event.shardId, 0);
      else if (previous === ShardState.Resuming && state === ShardState.Disconnected)
        failedResumes.set(event.shardId, (failedResumes.get(event.shardId) ?? 0) + 1);
      if (state === ShardState.Connecting) {
        const list = connecting.get(event.shardId) ?? [];
        list.push(Date.now());
        if (list.length > 64) list.shift();
        connecting.set(event.shardId, list);
      }
      handshakeHooks.get(event.shardId)?.(state);
    }
  });

  await cluster.up();
  await gateway.call({ cmd: 'traffic', on: true });
  console.log(`  cluster up in ${Date.now() - startedAt} ms; warming up (each fault once)`);

  // ---- faults ----
  const injected = new Map<Fault, number>();
  const skipped = { count: 0 };
  const stuck: string[] = [];
  const watchers = new Set<Promise<void>>();
  const userEnded = new Set<string>();
  const outages: { attemptsMax: number; refused: number; bound: number }[] = [];
  let faultsBlocked: Promise<void> | null = null;

  const isStable = (id: number): boolean => {
    const info = cluster.shard(id).info();
    return info.state === ShardState.Active && !handshakeHooks.has(id);
  };
  const watch = (what: string, done: () => boolean): void => {
    const watcher = until(done, RECOVERY_TIMEOUT_MS).then((ok) => {
      if (!ok) stuck.push(what);
      watchers.delete(watcher);
    });
    watchers.add(watcher);
  };
  const recovered = (id: number, activeSince: number | null) => (): boolean => {
    const info = cluster.shard(id).info();
    return info.state === ShardState.Active && info.activeSince !== activeSince;
  };

  async function userClose(id: number): Promise<boolean> {
    const shard = cluster.shard(id);
    const code = random() < 0.5 ? 1000 : 4000;
    const synchronous = random() < 0.5;
    let closing: Promise<unknown> | null = null;
    handshakeHooks.set(id, (state) => {
      if (state !== ShardState.Identifying && state !== ShardState.Resuming) return;
      handshakeHooks.delete(id);
      const close = (): void => {
        const session = shard.session;
        if (code === 1000 && session !== null) userEnded.add(session.id);
        closing = shard.close(code);
      };
      // From inside the event listener (re-entrant), or just after it.
      if (synchronous) close();
      else queueMicrotask(close);
    });
    const trigger: ShardFault = random() < 0.5 ? 'op7' : 'op9-false';
    const applied = await gateway.call<boolean>({ cmd: 'fault', fault: trigger, shardId: id });
    if (!applied) {
      handshakeHooks.delete(id);
      return false;
    }
    if (!(await until(() => closing !== null, RECOVERY_TIMEOUT_MS))) {
      handshakeHooks.delete(id);
      stuck.push(`shard ${id}: user-close never saw the handshake`);
      return true;
    }
    await closing;
    const before = shard.info().activeSince;
    shard.connect().catch((error: unknown) => scanner.value('connect() rejection', error));
    watch(`shard ${id} after user-close(${code})`, recovered(id, before));
    return true;
  }

  async function outage(): Promise<boolean> {
    if (!(await until(() => cluster.shardIds.every(isStable), RECOVERY_TIMEOUT_MS))) return false;
    const before = new Map(
      cluster.shardIds.map((id) => [id, cluster.shard(id).info().activeSince]),
    );
    const t0 = Date.now();
    const startedAt = await gateway.call<number>({ cmd: 'outage', refuseMs: OUTAGE_MS });
    const ok = await until(
      () => cluster.shardIds.every((id) => recovered(id, before.get(id) ?? null)()),
      RECOVERY_TIMEOUT_MS + OUTAGE_MS,
    );
    if (!ok) stuck.push('outage: not every shard Active again');
    // Attempts inside the refusal window, per shard (one of slack for the window's edges).
    const end = t0 + OUTAGE_MS;
    let attemptsMax = 0;
    for (const id of cluster.shardIds) {
      const n = (connecting.get(id) ?? []).filter((t) => t >= t0 && t <= end).length;
      attemptsMax = Math.max(attemptsMax, n);
    }
    const refused = await gateway.call<number>({
      cmd: 'refusedSince',
      startedAt,
      status: OUTAGE_STATUS,
    });
    outages.push({ attemptsMax, refused, bound: attemptBound(OUTAGE_MS) + 1 });
    return true;
  }

  async function inject(fault: Fault): Promise<void> {
    if (fault === 'outage') {
      faultsBlocked = outage().then((applied) => {
        if (applied) injected.set(fault, (injected.get(fault) ?? 0) + 1);
        else skipped.count++;
        faultsBlocked = null;
      });
      await faultsBlocked;
      return;
    }
    const candidates = cluster.shardIds.filter(isStable);
    if (candidates.length === 0) {
      skipped.count++;
      return;
    }
    const id = candidates[Math.floor(random() * candidates.length)] as number;
    let applied: boolean;
    if (fault === 'user-close') applied = await userClose(id);
    else {
      const before = cluster.shard(id).info().activeSince;
      applied = await gateway.call<boolean>({
        cmd: 'fault',
        fault,
        shardId: id,
        helloDelayMs: TIMEOUTS.helloMs + 1_000,
        refuseMs: RESUME_DEAD_MS,
        hugeBytes: HUGE_BYTES,
      });
      if (applied && DISRUPTIVE.has(fault))
        watch(`shard ${id} after ${fault}`, recovered(id, before));
    }
    if (applied) injected.set(fault, (injected.get(fault) ?? 0) + 1);
    else skipped.count++;
  }

  const pickFault = (): Fault => {
    const total = ALL_FAULTS.reduce((sum, f) => sum + (WEIGHTS[f] ?? 1), 0);
    let r = random() * total;
    for (const fault of ALL_FAULTS) {
      r -= WEIGHTS[fault] ?? 1;
      if (r < 0) return fault;
    }
    return 'op7';
  };

  async function quiesce(): Promise<boolean> {
    await Promise.all([...watchers]);
    return until(() => cluster.shardIds.every(isStable), RECOVERY_TIMEOUT_MS);
  }

  async function heapAfterGc(): Promise<number> {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error('run with node --expose-gc (npm run soak does)');
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return process.memoryUsage().heapUsed;
  }

  // Warm-up: every fault once (seeded order), so every path is compiled before the heap baseline.
  const warmup = [...ALL_FAULTS].sort(() => random() - 0.5);
  for (const fault of warmup) {
    await sleep(150 + random() * 250);
    await inject(fault);
  }
  await quiesce();
  await sleep(500);
  const heapStart = await heapAfterGc();
  const chaosStart = Date.now();
  const chaosEnd = startedAt + durationMs - 3_000;
  console.log(
    `  warm-up done at ${((chaosStart - startedAt) / 1_000).toFixed(1)} s; heap ${(heapStart / 2 ** 20).toFixed(1)} MiB; chaos until ${((chaosEnd - startedAt) / 1_000).toFixed(0)} s`,
  );
  let lastProgress = Date.now();
  while (Date.now() < chaosEnd) {
    await sleep(100 + random() * 400);
    await inject(pickFault());
    if (Date.now() - lastProgress > 60_000) {
      lastProgress = Date.now();
      const total = [...injected.values()].reduce((a, b) => a + b, 0);
      console.log(
        `  ${((Date.now() - startedAt) / 60_000).toFixed(1)} min: ${total} faults, ${dispatches} dispatches, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`,
      );
    }
  }
  const quiet = await quiesce();
  await sleep(500);
  const heapEnd = await heapAfterGc();

  // Drain: no new traffic, every shard caught up with its gateway session.
  await gateway.call({ cmd: 'traffic', on: false });
  let drained = false;
  for (let deadline = Date.now() + 20_000; Date.now() < deadline && !drained; await sleep(50)) {
    const sequences = await gateway.call<{ id: string; shardId: number; seq: number }[]>({
      cmd: 'sequences',
    });
    drained = cluster.shardIds.every((id) => {
      const sessionId = current.get(id);
      const server = sequences.find((s) => s.id === sessionId);
      return server !== undefined && tallies.get(server.id)?.last === server.seq;
    });
  }
  const summary = await gateway.call<GatewaySummary>({ cmd: 'summary' });

  const gapLines: string[] = [];
  let gapLost = 0;
  let skippedSessionEvents = 0;
  let unverifiedGaps = 0;
  for (const gap of await Promise.all(gapChecks)) {
    const { known, replayable, sessionEvents } = gap.report;
    const missing = known ? replayable.length : gap.got - gap.after - 1;
    if (!known) unverifiedGaps++;
    skippedSessionEvents += known ? sessionEvents : 0;
    gapLost += missing;
    if (missing > 0 && gapLines.length < 100)
      gapLines.push(
        `gap: shard ${gap.shardId} session ${gap.sessionId}: ${gap.type} s=${gap.got} after s=${gap.after}; missing ${known ? JSON.stringify(replayable) : `${missing} (the gateway no longer holds them)`}`,
        ...gap.context.map((line) => `    ${line}`),
      );
  }

  // Everything the library made, rendered every way, before shutdown.
  scanner.value('cluster', cluster, true);
  scanner.value('cluster.info()', cluster.info());
  for (const id of cluster.shardIds) {
    const shard = cluster.shard(id);
    scanner.value(`shard ${id}`, shard, true);
    scanner.value(`shard ${id} info()`, shard.info());
    scanner.value(`shard ${id} stats`, shard.stats);
    scanner.value(`shard ${id} session`, shard.session);
  }
  const shardStats = cluster.shardIds.map((id) => cluster.shard(id).stats);

  await cluster.down();
  await gateway.call({ cmd: 'stop' });
  await once(gateway.worker, 'exit');
  let leftover: string[] = [];
  for (let i = 0; i < 30; i++) {
    leftover = subtract(process.getActiveResourcesInfo(), baselineResources);
    if (leftover.length === 0) break;
    await sleep(100);
  }

  // ---- accounting ----
  const serverSessions = new Map(summary.sessions.map((s) => [s.id, s]));
  let lost = 0;
  let duplicated = 0;
  let invalidatedGap = 0;
  let invalidatedSessions = 0;
  let neverReached = 0;
  let abandoned = 0;
  let unexplained = 0;
  let clientAhead = 0;
  for (const tally of tallies.values()) duplicated += tally.duplicates;
  lost += gapLost;
  const endedBy = new Map<End, { sessions: number; gap: number }>();
  /** The gateway's end where it has one; else what the client did, as far as the soak saw. */
  const endOf = (id: string): End | null => {
    const end = serverSessions.get(id)?.end ?? null;
    if (end !== null && end !== 'vanished') return end;
    if (userEnded.has(id)) return 'user-close-1000-unseen';
    if (givenUp.has(id)) return 'resumes-given-up';
    return end;
  };
  for (const session of summary.sessions) {
    const tally = tallies.get(session.id);
    const gap = session.seq - (tally?.last ?? 0);
    if (gap < 0) clientAhead++;
    const end = endOf(session.id);
    if (end === null) {
      if (current.get(session.shardId) === session.id) lost += Math.max(0, gap);
      else if (tally === undefined) neverReached++;
      else {
        abandoned++;
        lost += Math.max(0, gap);
      }
    } else if (SESSION_OVER.has(end)) {
      invalidatedSessions++;
      invalidatedGap += Math.max(0, gap);
      const by = endedBy.get(end) ?? { sessions: 0, gap: 0 };
      by.sessions++;
      by.gap += Math.max(0, gap);
      endedBy.set(end, by);
    } else {
      unexplained++;
      lost += Math.max(0, gap);
    }
  }
  const orphanTallies = [...tallies.keys()].filter((id) => !serverSessions.has(id)).length;

  // An IDENTIFY is required for each session the shard still has, each that ended so that it
  // could not be resumed (gateway, user, or GW-GT-13), and each whose READY never arrived.
  let required = 0;
  let requiredByEnd = 0;
  let requiredByGiveUp = 0;
  let requiredByCut = 0;
  for (const identify of summary.identifies) {
    if (identify.outcome !== 'accepted' || identify.sessionId === null) continue;
    const id = identify.sessionId;
    const end = endOf(id);
    if (current.get(identify.shardId) === id) required++;
    else if (!tallies.has(id)) {
      required++;
      requiredByCut++;
    } else if (end !== null && SESSION_OVER.has(end)) {
      required++;
      if (end === 'resumes-given-up') requiredByGiveUp++;
      else requiredByEnd++;
    }
  }
  const unseenUserCloses = endedBy.get('user-close-1000-unseen')?.sessions ?? 0;
  const givenUpModelled = summary.sessions.filter((s) => endOf(s.id) === 'resumes-given-up').length;
  const identifyFaults =
    (injected.get('op9-false') ?? 0) +
    (injected.get('close-4007') ?? 0) +
    (injected.get('close-4009') ?? 0) +
    2 * (injected.get('ready-withheld-identify') ?? 0);
  const extraIdentifies = summary.identifies.length - required;
  const rateLimited = summary.identifies.filter((i) => i.outcome === 'rate-limited').length;
  const resumesRejected = summary.resumes.filter((r) => r.outcome !== 'resumed').length;
  const heartbeatTimeouts = summary.sessions.filter(
    (s) => s.end === 'heartbeat-timeout-4009',
  ).length;
  const growth = (heapEnd - heapStart) / heapStart;
  const ciLength = durationMs <= 120_000;
  const faultTotal = [...injected.values()].reduce((a, b) => a + b, 0);
  const badFrames = shardStats.reduce((sum, s) => sum + s.badFrames, 0);
  const duplicatesDropped = shardStats.reduce((sum, s) => sum + s.duplicatesDropped, 0);

  const rows: Row[] = [
    {
      check: 'faults injected (skipped: no stable target)',
      value: `${faultTotal} (${skipped.count})`,
      limit: '-',
      ok: null,
    },
    {
      check: 'dispatches delivered with a sequence; without one',
      value: `${dispatches}; ${unsequenced}`,
      limit: '-',
      ok: null,
    },
    mustBeZero('dispatches lost within resumable sessions', lost),
    mustBeZero('dispatches delivered twice', duplicated),
    {
      check: 'gap of legitimately ended sessions (not lost)',
      value: `${invalidatedGap} in ${invalidatedSessions} sessions`,
      limit: 'reported',
      ok: null,
    },
    ...(Object.keys(END_LABELS) as End[])
      .filter((end) => endedBy.has(end))
      .map((end) => ({
        check: `  ended by ${END_LABELS[end]}`,
        value: `${endedBy.get(end)!.gap} in ${endedBy.get(end)!.sessions}`,
        limit: 'reported',
        ok: null,
      })),
    mustBeZero(
      'sessions closed with 1000 by the user that the gateway kept (GW-CL-1)',
      unseenUserCloses,
    ),
    {
      check: 'READY/RESUMED of aborted handshakes skipped (never replayed)',
      value: String(skippedSessionEvents),
      limit: 'reported',
      ok: null,
    },
    mustBeZero('sequence gaps the gateway could not account for', unverifiedGaps),
    {
      check: 'sessions whose READY never reached the client',
      value: String(neverReached),
      limit: 'reported',
      ok: null,
    },
    mustBeZero('valid sessions the client abandoned', abandoned),
    {
      check: 'sessions ended for no known reason; client ahead of gateway',
      value: `${unexplained}; ${clientAhead}; ${orphanTallies} unknown to gateway; ${outOfSession} out of session`,
      limit: '0',
      ok: unexplained + clientAhead + orphanTallies + outOfSession === 0,
    },
    {
      check: 'drained: every shard caught up at the end',
      value: String(drained),
      limit: 'true',
      ok: drained,
    },
    {
      check: 'IDENTIFY sent / required',
      value: `${summary.identifies.length} / ${required} (${SHARDS} + ${requiredByEnd} sessions ended + ${requiredByGiveUp} given up after 3 RESUMEs + ${requiredByCut} cut before READY)`,
      limit: 'extra 0',
      ok: extraIdentifies === 0,
    },
    {
      check: '  faults that end a session (op 9 false, 4007, 4009, READY withheld)',
      value: String(identifyFaults),
      limit: 'info',
      ok: null,
    },
    {
      check: '  shards that gave up resuming (GW-GT-13): modelled; logged by the shard',
      value: `${givenUpModelled}; ${givenUpLogged}`,
      limit: 'equal',
      ok: givenUpModelled === givenUpLogged,
    },
    mustBeZero('IDENTIFY answered op 9 (identify window)', rateLimited),
    mustBeZero('RESUME refused by the gateway', resumesRejected),
    mustBeZero('sessions timed out by the gateway (late heartbeats)', heartbeatTimeouts),
    ...outages.map((o, i) => ({
      check: `outage ${i + 1}: attempts per shard while refused (max); refused upgrades`,
      value: `${o.attemptsMax}; ${o.refused}`,
      limit: `<= ${o.bound}; <= ${o.bound * SHARDS}`,
      ok: o.attemptsMax <= o.bound && o.refused <= o.bound * SHARDS,
    })),
    {
      check: 'shards stuck after a fault',
      value: stuck.length === 0 ? '0' : `${stuck.length}: ${stuck.slice(0, 3).join('; ')}`,
      limit: '0',
      ok: stuck.length === 0 && quiet,
    },
    mustBeZero('fatal stops', fatal),
    {
      check: 'op 1 requests answered in time / late',
      value: `${summary.heartbeatRequests.answeredInTime} / ${summary.heartbeatRequests.late}`,
      limit: 'late 0',
      ok: summary.heartbeatRequests.late === 0,
    },
    {
      check: 'bad frames reported (SHARD_ERROR)',
      value: [...errorsByType].map(([name, n]) => `${name} ${n}`).join(', ') || '0',
      limit: 'info',
      ok: null,
    },
    {
      check: 'frames counted as bad; out-of-order dispatches dropped',
      value: `${badFrames}; ${duplicatesDropped}`,
      limit: 'info',
      ok: null,
    },
    {
      check: `heap after GC: start -> end`,
      value: `${mib(heapStart)} -> ${mib(heapEnd)} MiB (${(growth * 100).toFixed(1)}%)`,
      limit: ciLength ? `< ${HEAP_GROWTH_LIMIT * 100}%` : 'reported',
      ok: ciLength ? growth < HEAP_GROWTH_LIMIT : null,
    },
    {
      check: 'unhandled rejections / uncaught exceptions',
      value: `${unhandledRejections} / ${uncaughtExceptions}`,
      limit: '0 / 0',
      ok: unhandledRejections + uncaughtExceptions === 0,
    },
    {
      check: 'open handles after shutdown (beyond stdio)',
      value: leftover.length === 0 ? '0' : leftover.join(', '),
      limit: '0',
      ok: leftover.length === 0,
    },
    {
      check: 'token marker found (logs, errors, events, inspect/JSON)',
      value: `${scanner.hits.length} in ${scanner.scanned} texts${scanner.hits.length ? `: ${scanner.hits.slice(0, 3).join('; ')}` : ''}${detectorWorks ? '' : ' (DETECTOR BROKEN)'}`,
      limit: '0',
      ok: scanner.hits.length === 0 && detectorWorks,
    },
    {
      check: 'log lines captured (debug/log/warn/error)',
      value: `${logCounts.debug}/${logCounts.log}/${logCounts.warn}/${logCounts.error}`,
      limit: 'info',
      ok: null,
    },
    {
      check: 'gateway: connections; its own errors',
      value: `${summary.connections}; ${summary.gatewayErrors.length + workerErrors}`,
      limit: 'errors 0',
      ok: summary.gatewayErrors.length + workerErrors === 0,
    },
  ];

  console.log(`\nfaults: ${[...injected].map(([f, n]) => `${f} ${n}`).join(', ')}`);
  console.log(
    `gateway violations: ${
      Object.entries(summary.violations)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }`,
  );
  printTable(rows);
  const failed = rows.filter((row) => row.ok === false);
  console.log(
    `\nseed ${seed}, ${((Date.now() - startedAt) / 1_000).toFixed(0)} s: ${failed.length === 0 ? 'PASS' : `FAIL (${failed.map((r) => r.check).join('; ')})`}`,
  );
  for (const line of gapLines) console.log(line);
  if (failed.length > 0) {
    console.log('\nlast log lines:');
    for (const line of recentLogs.slice(-60)) console.log(`  ${line}`);
    for (const error of summary.gatewayErrors.slice(0, 5)) console.log(`gateway error: ${error}`);
  }
  return failed.length === 0 ? 0 : 1;
}

/**
 * Most reconnect attempts one shard can make in `windowMs` while every attempt fails: the
 * first at once, attempt n >= 2 after at least half of min(max, base * 2^(n-2)) (Backoff's
 * jitter floor).
 */
function attemptBound(windowMs: number): number {
  let elapsed = 0;
  let attempts = 1;
  for (;;) {
    const floor = Math.min(RECONNECT.maxDelayMs, RECONNECT.baseDelayMs * 2 ** (attempts - 1)) / 2;
    if (elapsed + floor > windowMs) return attempts;
    elapsed += floor;
    attempts++;
  }
}

/** `after` minus `before` as multisets of resource names. */
function subtract(after: string[], before: string[]): string[] {
  const left = [...before];
  return after.filter((name) => {
    const i = left.indexOf(name);
    if (i === -1) return true;
    left.splice(i, 1);
    return false;
  });
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

function printTable(rows: Row[]): void {
  const widths = [
    Math.max(...rows.map((r) => r.check.length)),
    Math.min(70, Math.max(...rows.map((r) => r.value.length))),
    Math.max(...rows.map((r) => r.limit.length)),
  ];
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i < 3 ? c.padEnd(widths[i] as number) : c)).join(' | ')} |`;
  console.log('');
  console.log(line(['check', 'value', 'limit', 'result']));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|--------|`);
  for (const row of rows)
    console.log(
      line([
        row.check,
        row.value,
        row.limit,
        row.ok === null ? 'info  ' : row.ok ? 'ok    ' : 'FAILED',
      ]),
    );
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('soak aborted:', error);
    process.exit(2);
  },
);
