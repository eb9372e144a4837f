import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { GatewayOpcodes } from 'discord-api-types/v10';
import { WebSocketServer, type WebSocket } from 'ws';
import { realClock, TimerScope, type FakeClock } from './clock.js';
import { supportsZstd, type TransportCompression } from './compression.js';
import { FakeConnection, type ConnectionContext } from './connection.js';
import { SESSION_ENDING_CLOSE_CODES } from './handshake.js';
import { RestApi, type HttpRateLimitOptions } from './http.js';
import { IdentifyLimits } from './identify-limits.js';
import { applyMessageContentIntent, dispatchAllowed } from './intents.js';
import { loadState, SAVED_BUFFER_TAIL, saveState, type GatewayState } from './persistence.js';
import type { ProtocolConnection } from './protocol-connection.js';
import {
  GatewayRecord,
  type ListenerKind,
  type UpgradeRecord,
  type ViolationKind,
} from './recording.js';
import { readRecording } from './replay.js';
import { FakeSession, SessionRegistry } from './sessions.js';
import { DEFAULT_FAKE_TOKEN, resolveSettings, type FakeGatewaySettings } from './settings.js';
import { shardForGuild } from './snowflake.js';
import { TrafficGenerator, type WorldGuild } from './traffic.js';
import { steadyStream, type TrafficStream } from './traffic-stream.js';
import type {
  ConnectionScript,
  DelayUpgradesOptions,
  FakeGatewayOptions,
  GatewayPayload,
  ListenerFilter,
  RefuseUpgradesOptions,
} from './types.js';

/** Where `FakeGateway.dispatch()` sends an event. */
export interface DispatchTarget {
  /** Only sessions of this shard (skips guild routing). */
  shardId?: number;
  /** Only this session (skips guild routing). */
  sessionId?: string;
  /** Drop it for sessions whose intents do not cover it, strip content without MESSAGE_CONTENT (section 17). Default true. */
  applyIntents?: boolean;
}

/** Options of `FakeGateway.replay()`. */
export interface ReplayOptions {
  /** Shard whose latest active session gets the dispatches. Default 0. */
  shardId?: number;
  /** A specific session instead. */
  sessionId?: string;
  /** Filter by the session's intents. Default false (a capture is already filtered). */
  applyIntents?: boolean;
  /** Also replay READY and RESUMED dispatches. Default false. */
  includeSessionEvents?: boolean;
  /** Non-dispatch payloads (op != 0): `'skip'` (default) or `'send'` them as they are. */
  nonDispatch?: 'skip' | 'send';
}

/** Options of `FakeGateway.pump()` (as fast as the client drains). */
export interface PumpOptions {
  /** Events to send. */
  count: number;
  /** Pause while the connection has more than this many bytes unsent. Default 1 MiB. */
  highWaterMarkBytes?: number;
  /** Events generated per turn before checking backpressure again. Default 64. */
  batch?: number;
}

interface RefusalRule {
  listener: ListenerFilter;
  remaining: number;
  until: number | null;
  status: number;
}

interface DelayRule {
  listener: ListenerFilter;
  remaining: number;
  delayMs: number;
}

interface ScriptRule {
  listener: ListenerFilter;
  remaining: number;
  script: ConnectionScript;
}

/** What a restart after a saved state generated (see `FakeGatewayOptions.stateFile`). */
export interface RestoredState {
  sessions: number;
  downtimeMs: number;
  gapEvents: number;
}

const matches = (filter: ListenerFilter, listener: ListenerKind): boolean =>
  filter === 'any' || filter === listener;

/**
 * A local Discord gateway for tests, benchmarks and offline runs: the REST routes a gateway
 * client needs, the WebSocket gateway on a base listener and `resume_gateway_url` on a second
 * one, and the protocol as docs/protocol.md describes it, recording everything it sees in
 * {@link record}. Shares no code with the client.
 *
 * @example
 * const gw = await FakeGateway.start({ heartbeatIntervalMs: 200, shards: 2 });
 * // connect a client to gw.url with FakeGateway.defaultToken ...
 * await gw.waitFor((r) => r.identifies.length === 2);
 * gw.dispatch('MESSAGE_CREATE', gw.traffic.messageCreate(gw.traffic.guilds[0], '!ping'));
 * await gw.stop();
 */
export class FakeGateway {
  /** The token accepted when `tokens` is not given. */
  static readonly defaultToken = DEFAULT_FAKE_TOKEN;
  /** Whether `compress=zstd-stream` can be served here (node:zlib zstd, or the zstd-napi package). */
  static readonly supportsZstd = supportsZstd;

  /** Everything seen so far. */
  readonly record: GatewayRecord;
  /** The seeded world (guilds, members) and the event generator. */
  readonly traffic: TrafficGenerator;
  readonly clock: FakeClock;
  readonly settings: FakeGatewaySettings;
  /** Set when `start()` loaded a state file. */
  restored: RestoredState | null = null;

  private readonly limits: IdentifyLimits;
  private readonly sessionRegistry: SessionRegistry;
  private readonly rest: RestApi;
  private readonly timers: TimerScope;
  private readonly baseServer: Server;
  private readonly resumeServer: Server;
  private readonly wss: WebSocketServer;
  private readonly open = new Set<FakeConnection>();
  private readonly byId = new Map<number, FakeConnection>();
  private readonly pendingUpgrades = new Set<Duplex>();
  private readonly refusals: RefusalRule[] = [];
  private readonly delays: DelayRule[] = [];
  private readonly scripts: ScriptRule[] = [];
  private readonly streams = new Set<TrafficStream>();
  private readonly memberRequests = new Map<string, number>();
  private readonly ctx: ConnectionContext;
  private connectionCount = 0;
  private basePort = 0;
  private resumePort = 0;
  private stopping: Promise<void> | null = null;

  private constructor(options: FakeGatewayOptions) {
    this.clock = options.clock ?? realClock;
    this.settings = resolveSettings(options);
    this.record = new GatewayRecord(options.recording);
    this.timers = new TimerScope(this.clock);
    const traffic = options.traffic ?? {};
    this.traffic = new TrafficGenerator({
      seed: traffic.seed,
      guildCount: traffic.guildCount ?? 2 * this.settings.shards,
      shardCount: this.settings.shards,
      channelsPerGuild: traffic.channelsPerGuild,
      membersPerGuild: traffic.membersPerGuild,
      commandFraction: traffic.commandFraction,
      mix: traffic.mix,
    });
    this.limits = new IdentifyLimits(this.clock, {
      maxConcurrency: options.maxConcurrency,
      identifyWindowMs: options.identifyWindowMs,
      identifyToleranceMs: options.identifyToleranceMs,
      sessionStartTotal: options.sessionStartLimit?.total,
      sessionStartRemaining: options.sessionStartLimit?.remaining,
      sessionStartResetMs: options.sessionStartLimit?.resetAfterMs,
    });
    this.sessionRegistry = new SessionRegistry(this.settings.sessionTimeoutMs);
    const resumeUrl = (): string => this.resumeUrl;
    this.ctx = {
      clock: this.clock,
      settings: this.settings,
      record: this.record,
      limits: this.limits,
      sessions: this.sessionRegistry,
      traffic: this.traffic,
      memberRequests: this.memberRequests,
      get resumeUrl() {
        return resumeUrl();
      },
      violation: (kind, connection, closeCode, detail) =>
        this.violation(kind, connection, closeCode, detail),
      connectionClosed: (connection) => this.connectionClosed(connection),
    };
    this.rest = new RestApi({
      clock: this.clock,
      record: this.record,
      tokens: this.settings.tokens,
      limits: this.limits,
      traffic: this.traffic,
      shards: this.settings.shards,
      gatewayUrl: () => this.url,
    });
    this.wss = new WebSocketServer({
      noServer: true,
      // No cap in ws itself: ws would close an oversized frame with a bare 1009, where Discord
      // answers any payload over 4096 bytes with 4002 (GW-ENV-4), which the connection does.
      maxPayload: 0,
      skipUTF8Validation: true,
    });
    this.baseServer = createServer((req, res) => this.rest.handle(req, res));
    this.resumeServer = createServer((_req, res) => {
      res.writeHead(404).end();
    });
    this.baseServer.on('upgrade', (req, socket, head) => this.onUpgrade('base', req, socket, head));
    this.resumeServer.on('upgrade', (req, socket, head) =>
      this.onUpgrade('resume', req, socket, head),
    );
  }

  /**
   * Binds both listeners (127.0.0.1, ephemeral ports by default) and, with `stateFile`, loads
   * saved sessions and fills the downtime gap. Rejects when a port cannot be bound.
   */
  static async start(options: FakeGatewayOptions = {}): Promise<FakeGateway> {
    const gateway = new FakeGateway(options);
    const state =
      gateway.settings.stateFile === null ? null : await loadState(gateway.settings.stateFile);
    await gateway.listen(state?.ports);
    if (state !== null) gateway.restore(state);
    return gateway;
  }

  /** Base gateway URL, `ws://127.0.0.1:PORT` (what `/gateway/bot` returns). */
  get url(): string {
    return `ws://${this.hostForUrl()}:${this.basePort}`;
  }

  /** `resume_gateway_url` handed out in READY: the second listener, with `resumePath` (GW-URL-4). */
  get resumeUrl(): string {
    return `ws://${this.hostForUrl()}:${this.resumePort}${this.settings.resumePath}`;
  }

  /** REST base, `http://127.0.0.1:PORT/api/v10`. */
  get apiUrl(): string {
    return `http://${this.hostForUrl()}:${this.basePort}/api/v10`;
  }

  /** Open connections, in accept order. */
  get connections(): FakeConnection[] {
    return [...this.open];
  }

  /** A connection by record id (open or closed, while its record is kept). */
  connection(id: number): FakeConnection | undefined {
    return this.byId.get(id);
  }

  /** The newest open connection serving `shardId` (after IDENTIFY/RESUME was accepted). */
  connectionFor(shardId: number): FakeConnection | undefined {
    let found: FakeConnection | undefined;
    for (const connection of this.open)
      if (connection.isOpen && connection.shardId === shardId) found = connection;
    return found;
  }

  /** Waits (real time, default 5_000 ms) until `shardId` has a live connection (READY/RESUMED sent). */
  waitForConnection(
    shardId: number,
    { timeoutMs = 5_000 }: { timeoutMs?: number } = {},
  ): Promise<FakeConnection> {
    return this.record.waitFor(
      () => {
        const connection = this.connectionFor(shardId);
        return connection?.live ? connection : undefined;
      },
      { timeoutMs },
    );
  }

  /** Sessions that currently take dispatches (READY sent, not invalidated or expired). */
  sessions(): FakeSession[] {
    return this.sessionRegistry.active(this.clock.now());
  }

  /** The newest active session of `shardId`. */
  sessionFor(shardId: number): FakeSession | undefined {
    const list = this.sessions().filter((s) => s.shardId === shardId);
    return list[list.length - 1];
  }

  /** Shorthand for `record.waitFor`. */
  waitFor<T>(
    check: (record: GatewayRecord) => T | null | undefined | false,
    options?: { timeoutMs?: number },
  ): Promise<T> {
    return this.record.waitFor(check, options);
  }

  /**
   * Sends a dispatch to every active session it routes to: by `d.guild_id` to the owning
   * shard (GW-SH-1), without one to shard 0 (GW-SH-2), or to `target`. Sessions without a
   * connection buffer it for RESUME. Returns how many sessions took it.
   */
  dispatch(t: string, d: unknown, target: DispatchTarget = {}): number {
    const guildId = (d as { guild_id?: unknown } | null)?.guild_id;
    let taken = 0;
    for (const session of this.sessions()) {
      if (target.sessionId !== undefined) {
        if (session.id !== target.sessionId) continue;
      } else if (target.shardId !== undefined) {
        if (session.shardId !== target.shardId) continue;
      } else if (typeof guildId === 'string') {
        if (shardForGuild(guildId, session.shardCount) !== session.shardId) continue;
      } else if (session.shardId !== 0) continue;
      let data = d;
      if (target.applyIntents !== false) {
        const bot = this.traffic.botUser.id;
        if (!dispatchAllowed(t, d, session.intents, bot)) continue;
        data = applyMessageContentIntent(t, d, session.intents, bot);
      }
      session.append(t, data);
      taken++;
    }
    return taken;
  }

  /** Applies `script` to the next `count` (default 1) connections on `listener` (default any). */
  nextConnections(
    script: ConnectionScript,
    { count = 1, listener = 'any' }: { count?: number; listener?: ListenerFilter } = {},
  ): void {
    this.scripts.push({ script, remaining: count, listener });
  }

  /**
   * Refuses WebSocket upgrades with an HTTP error (default 503) for `count` attempts or for
   * `durationMs` on the clock; `listener: 'resume'` makes the resume URL dead (GW-GT-1).
   */
  refuseUpgrades(options: RefuseUpgradesOptions = {}): void {
    this.refusals.push({
      listener: options.listener ?? 'any',
      remaining: options.count ?? (options.durationMs !== undefined ? Infinity : 1),
      until: options.durationMs !== undefined ? this.clock.now() + options.durationMs : null,
      status: options.status ?? 503,
    });
  }

  /** Holds the next `count` (default 1) WebSocket upgrades for `delayMs` on the clock. */
  delayUpgrades(options: DelayUpgradesOptions): void {
    this.delays.push({
      listener: options.listener ?? 'any',
      remaining: options.count ?? 1,
      delayMs: options.delayMs,
    });
  }

  /** Answers the next request(s) to a REST path with 429 (default: one `/gateway/bot`). */
  rateLimitHttp(options: HttpRateLimitOptions = {}): void {
    this.rest.rateLimit(options);
  }

  /**
   * Streams the generator's mix at `ratePerSecond` events/s of clock time (default
   * `traffic.ratePerSecond`, 5) through {@link dispatch}, so events route to their guild's
   * shard and wait in detached sessions' buffers. Stopped by `stop()` too.
   */
  startTraffic({
    ratePerSecond = this.settings.trafficRatePerSecond,
    guilds,
  }: { ratePerSecond?: number; guilds?: readonly WorldGuild[] } = {}): TrafficStream {
    const stream = steadyStream(
      this.clock,
      ratePerSecond,
      () => this.traffic.next(guilds),
      (event) => this.dispatch(event.t, event.d),
    );
    this.streams.add(stream);
    return {
      get generated() {
        return stream.generated;
      },
      stop: () => {
        stream.stop();
        this.streams.delete(stream);
      },
    };
  }

  /**
   * Sends `count` generated events (of those the session's intents let through) for the
   * guilds of `connection`'s shard as fast as the client drains them: it pauses (real time)
   * while more than `highWaterMarkBytes` are unsent. Resolves with the number sent (less if
   * the connection closed or the intents filter out nearly every generated type).
   */
  async pump(
    connection: FakeConnection,
    { count, highWaterMarkBytes = 1024 * 1024, batch = 64 }: PumpOptions,
  ): Promise<number> {
    const session = connection.session;
    if (session === null) throw new Error('pump: the connection has no session yet');
    const owned = this.traffic.guildsForShard(session.shardId, session.shardCount);
    if (owned.length === 0) throw new Error(`pump: shard ${session.shardId} owns no guild`);
    const bot = this.traffic.botUser.id;
    let sent = 0;
    // Events the session's intents filter out are skipped; give up if (almost) none pass.
    let budget = count * 100 + 1_000;
    while (sent < count && budget > 0 && connection.isOpen && connection.session === session) {
      if (connection.bufferedAmount > highWaterMarkBytes) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      for (let i = 0; i < batch && sent < count && budget > 0; budget--) {
        const event = this.traffic.next(owned);
        if (!dispatchAllowed(event.t, event.d, session.intents, bot)) continue;
        session.append(event.t, applyMessageContentIntent(event.t, event.d, session.intents, bot));
        sent++;
        i++;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    return sent;
  }

  /**
   * Replays a JSON-lines recording (file path, or lines/payloads) into one session, in order,
   * each dispatch renumbered with the session's next sequence. Resolves with the number of
   * dispatches sent. Throws when the shard has no active session or a line is malformed.
   */
  async replay(
    source: string | readonly (string | GatewayPayload)[],
    options: ReplayOptions = {},
  ): Promise<number> {
    const payloads = await readRecording(source);
    const shardId = options.shardId ?? 0;
    const session =
      options.sessionId !== undefined
        ? this.sessions().find((s) => s.id === options.sessionId)
        : this.sessionFor(shardId);
    if (session === undefined)
      throw new Error(`replay: no active session for ${options.sessionId ?? `shard ${shardId}`}`);
    let count = 0;
    const bot = this.traffic.botUser.id;
    for (const payload of payloads) {
      if (payload.op !== GatewayOpcodes.Dispatch) {
        if (options.nonDispatch === 'send') (session.link as FakeConnection | null)?.send(payload);
        continue;
      }
      const t = payload.t ?? '';
      if (!options.includeSessionEvents && (t === 'READY' || t === 'RESUMED')) continue;
      if (options.applyIntents && !dispatchAllowed(t, payload.d, session.intents, bot)) continue;
      const d = options.applyIntents
        ? applyMessageContentIntent(t, payload.d, session.intents, bot)
        : payload.d;
      session.append(t, d);
      count++;
    }
    return count;
  }

  /**
   * Stops everything: traffic, timers, every connection (close 1001, then a hard drop for
   * any still open after `closeTimeoutMs` real ms, default 500), both listeners; then saves
   * the state file when configured. Leaves no handle open. Idempotent.
   */
  stop({ closeTimeoutMs = 500 }: { closeTimeoutMs?: number } = {}): Promise<void> {
    this.stopping ??= this.shutdown(closeTimeoutMs);
    return this.stopping;
  }

  private async shutdown(closeTimeoutMs: number): Promise<void> {
    for (const stream of this.streams) stream.stop();
    this.streams.clear();
    this.timers.clearAll();
    for (const socket of this.pendingUpgrades) socket.destroy();
    this.pendingUpgrades.clear();
    const connections = [...this.open];
    for (const connection of connections) connection.close(1001, 'gateway stopping');
    if (connections.length > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, closeTimeoutMs);
        const check = (): void => {
          if (this.open.size === 0) finish();
        };
        function finish(): void {
          clearTimeout(timer);
          clearInterval(poll);
          resolve();
        }
        const poll = setInterval(check, 5);
        check();
      });
      for (const connection of this.open) connection.terminate();
    }
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await Promise.all([closeServer(this.baseServer), closeServer(this.resumeServer)]);
    if (this.settings.stateFile !== null) await saveState(this.settings.stateFile, this.snapshot());
  }

  /**
   * Binds both listeners. Ports left at 0 reuse `saved` (the ports of the run that wrote the
   * state file) when they are free, so the resume URLs a restarted bot stored still answer.
   */
  private async listen(saved?: { base: number; resume: number }): Promise<void> {
    const { host, port, resumePort } = this.settings;
    this.basePort = await listenPreferring(this.baseServer, host, port, saved?.base);
    this.resumePort = await listenPreferring(this.resumeServer, host, resumePort, saved?.resume);
  }

  private hostForUrl(): string {
    return this.settings.host.includes(':') ? `[${this.settings.host}]` : this.settings.host;
  }

  private onUpgrade(
    listener: ListenerKind,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): void {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'ws://fake');
    const upgrade: UpgradeRecord = {
      listener,
      path: url.pathname,
      query: url.search.slice(1),
      at: this.clock.now(),
      outcome: 'accepted',
      status: null,
      delayedMs: 0,
    };
    this.record.add('upgrades', upgrade);
    const refuse = (status: number, outcome: UpgradeRecord['outcome'], message = ''): void => {
      upgrade.outcome = outcome;
      upgrade.status = status;
      this.record.touch();
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\n` +
          `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
      );
    };
    if (this.stopping !== null) return refuse(503, 'refused');
    const refusal = this.take(this.refusals, listener);
    if (refusal !== undefined) return refuse(refusal.status, 'refused');
    const compress = url.searchParams.get('compress');
    if (compress !== null && compress !== 'zlib-stream' && compress !== 'zstd-stream') {
      return refuse(400, 'unsupported', `unknown compress=${compress}`);
    }
    if (compress === 'zstd-stream' && !supportsZstd) {
      return refuse(
        501,
        'unsupported',
        'zstd-stream is not supported by this FakeGateway: no zstd encoder (node:zlib zstd needs Node 22.15; or install zstd-napi)',
      );
    }
    const accept = (): void => {
      this.pendingUpgrades.delete(socket);
      if (this.stopping !== null) return refuse(503, 'refused');
      this.wss.handleUpgrade(req, socket, head, (ws) =>
        this.onConnection(ws, listener, url, compress as TransportCompression | null),
      );
    };
    const delay = this.take(this.delays, listener);
    if (delay === undefined) return accept();
    upgrade.delayedMs = delay.delayMs;
    this.record.touch();
    this.pendingUpgrades.add(socket);
    this.timers.set(accept, delay.delayMs);
  }

  private onConnection(
    ws: WebSocket,
    listener: ListenerKind,
    url: URL,
    compression: TransportCompression | null,
  ): void {
    const id = ++this.connectionCount;
    const versionText = url.searchParams.get('v');
    const version = versionText !== null && /^\d+$/.test(versionText) ? Number(versionText) : null;
    const encoding = url.searchParams.get('encoding') ?? 'json';
    const rule = this.take(this.scripts, listener);
    const connection = new FakeConnection(this.ctx, ws, {
      id,
      listener,
      path: url.pathname,
      query: url.search.slice(1),
      version: versionText === null ? null : (version ?? NaN),
      encoding,
      compression,
      encoder: this.settings.encodings.get(encoding) ?? null,
      script: { ...this.settings.connection, ...(rule?.script ?? {}) },
    });
    this.open.add(connection);
    this.byId.set(id, connection);
    this.record.addConnection(connection.record);
    connection.open();
  }

  private take<R extends { listener: ListenerFilter; remaining: number; until?: number | null }>(
    rules: R[],
    listener: ListenerKind,
  ): R | undefined {
    const now = this.clock.now();
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (rule.remaining <= 0 || (rule.until != null && now >= rule.until)) {
        rules.splice(i--, 1);
        continue;
      }
      if (!matches(rule.listener, listener)) continue;
      rule.remaining--;
      return rule;
    }
    return undefined;
  }

  private violation(
    kind: ViolationKind,
    connection: ProtocolConnection | null,
    closeCode: number | null,
    detail: string,
  ): void {
    this.record.add('violations', {
      kind,
      connectionId: connection?.id ?? null,
      shardId: connection?.shardId ?? null,
      at: this.clock.now(),
      closeCode,
      detail,
    });
    if (closeCode !== null && connection !== null)
      connection.close(closeCode, detail.slice(0, 120));
  }

  /** GW-CL-1: a client close with 1000/1001 ends the session; so do the session-ending server codes (GW-GT-3). */
  private connectionClosed(connection: FakeConnection): void {
    this.open.delete(connection);
    if (this.byId.size > 10_000) this.byId.delete(this.byId.keys().next().value as number);
    const session = connection.session;
    connection.detach();
    if (session === null) return;
    const record = connection.record;
    const clientEnded =
      record.closedBy === 'client' &&
      (record.clientCloseCode === 1000 || record.clientCloseCode === 1001);
    const serverEnded =
      record.closedBy === 'server' && SESSION_ENDING_CLOSE_CODES.has(record.serverCloseCode ?? 0);
    if (clientEnded || serverEnded) this.sessionRegistry.invalidate(session);
  }

  private snapshot(): GatewayState {
    const budget = this.limits.snapshot();
    return {
      version: 1,
      savedAt: Date.now(),
      ports: { base: this.basePort, resume: this.resumePort },
      sessions: this.sessions().map((s) => ({
        id: s.id,
        shardId: s.shardId,
        shardCount: s.shardCount,
        intents: s.intents,
        tokenHash: s.tokenHash,
        seq: s.seq,
        buffer: s.buffer.tail(Math.min(SAVED_BUFFER_TAIL, this.settings.replayBufferSize)),
      })),
      sessionStartLimit: { remaining: budget.remaining, resetAfterMs: budget.reset_after },
      traffic: this.traffic.state(),
    };
  }

  /**
   * Loads saved sessions (detached, resumable) and generates the downtime's dispatches into
   * their buffers at the configured rate, at most `maxGapEvents`, as Discord keeps a
   * session's events while its bot restarts.
   */
  private restore(state: GatewayState): void {
    const now = this.clock.now();
    for (const saved of state.sessions) {
      const session = new FakeSession(
        saved.shardId,
        saved.shardCount,
        saved.intents,
        saved.tokenHash,
        this.settings.replayBufferSize,
        saved.id,
      );
      for (const entry of saved.buffer) session.buffer.push(entry);
      session.seq = saved.seq;
      session.started = true;
      session.detachedAt = now;
      this.sessionRegistry.add(session);
    }
    this.limits.restore(state.sessionStartLimit.remaining, state.sessionStartLimit.resetAfterMs);
    const downtimeMs = Math.max(0, Date.now() - state.savedAt);
    this.traffic.restore(state.traffic, downtimeMs);
    const gapEvents =
      state.sessions.length === 0
        ? 0
        : Math.min(
            this.settings.maxGapEvents,
            Math.round((this.settings.trafficRatePerSecond * downtimeMs) / 1_000),
          );
    for (let i = 0; i < gapEvents; i++) {
      const event = this.traffic.next();
      this.dispatch(event.t, event.d);
    }
    this.restored = { sessions: state.sessions.length, downtimeMs, gapEvents };
  }
}

/** Listens on `port`, or on `preferred` when `port` is 0 and `preferred` is free, else ephemeral. */
async function listenPreferring(
  server: Server,
  host: string,
  port: number,
  preferred: number | undefined,
): Promise<number> {
  if (port === 0 && preferred !== undefined && preferred > 0) {
    try {
      return await listenOn(server, host, preferred);
    } catch {
      // Taken by another process since the state was saved: an ephemeral port will do.
    }
  }
  return listenOn(server, host, port);
}

function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
