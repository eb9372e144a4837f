import type { DisconnectCause } from './disconnect-cause.js';
import WebSocket from 'ws';
import { systemClock, type Clock } from '../clock/clock.js';
import { createEtfEncoding } from '../codec/index.js';
import type { ShardConfig } from '../config/index.js';
import {
  describeError,
  FatalCloseError,
  GatewayError,
  GatewayTimeoutError,
  ShardClosedError,
} from '../errors/errors.js';
import { EventType } from '../events/event-type.js';
import { consoleLogger, printable, type GatewayLogger } from '../logger.js';
import { InMemoryIdentifyQueue } from '../queue/in-memory-queue.js';
import type { Session } from '../session/session.js';
import { closeCodePolicy, type CloseAction } from './close-codes.js';
import { ClosingSockets } from './closing-sockets.js';
import { CommandPump } from './command-pump.js';
import type { GatewayCommand } from './commands.js';
import { Connection } from './connection.js';
import { EventDelivery } from './delivery.js';
import { DispatchFilter } from './dispatch-filter.js';
import { GuildReadiness } from './guild-readiness.js';
import { Handshake } from './handshake.js';
import { Latency } from './latency.js';
import { hasBufferutil } from './native-addons.js';
import { ReceivePath } from './receive-path.js';
import { Reconnector } from './reconnect.js';
import { ResumeUrlPolicy } from './resume-url.js';
import { RECONNECT_CLOSE_CODE, type ShardContext, type ShardLink } from './shard-context.js';
import type { ShardObserver } from './shard-observer.js';
import type { ShardDeps, ShardInfo } from './shard-info.js';
import { ShardState } from './shard-state.js';
import { newShardCounters, type ShardCounters } from './stats.js';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

const MAX_REASON_LENGTH = 120;

/**
 * Drives one shard: wires its parts (handshake, receive path, command pump, guild readiness,
 * resume URL policy, reconnect) to one socket at a time and one clock, and runs the state
 * machine `Disconnected -> Connecting -> Identifying | Resuming -> Active`, back to
 * `Disconnected` and a new connection after a resumable or reconnectable close,
 * `FatallyClosed` after a fatal close code, `Closed` after close(). Every callback of a
 * socket checks its connection has not ended, so a late event of an old socket never touches
 * the new connection (GW-GT-8). The public face is `Shard`.
 */
export class ShardDriver implements ShardLink {
  state = ShardState.Disconnected;
  /** The last connection's end, for `info()`. */
  lastClose: ShardInfo['lastClose'] = null;
  /** Clock reading (ms) when the current connection became Active. */
  activeSince: number | null = null;
  /** Clock reading (ms) since which the shard is not Active (created, started, or dropped). */
  inactiveSince: number | null;
  readonly counters: ShardCounters = newShardCounters();
  readonly latency = new Latency();
  readonly delivery: EventDelivery;
  readonly filter: DispatchFilter;
  readonly handshake: Handshake;
  readonly reconnect: Reconnector;
  readonly pump: CommandPump;

  private readonly ctx: ShardContext;
  private readonly urls: ResumeUrlPolicy;
  private readonly guilds: GuildReadiness;
  private readonly receiver: ReceivePath;
  /** Made by the first socket the shard lets go. */
  private closingSockets: ClosingSockets | null = null;
  private readonly clock: Clock;
  private readonly logger: GatewayLogger;
  private readonly prefix: string;
  /** The only connection not ended, if any. */
  private conn: Connection | null = null;
  private generation = 0;
  /** A connection is wanted: between connect() and close() or a fatal stop. */
  private running = false;
  private fatalError: GatewayError | null = null;
  private closing: Promise<Session | null> | null = null;
  /** connect() calls waiting for Active; `null` when none waits (an Active shard). */
  private connectWaiters: Waiter[] | null = null;

  constructor(
    private readonly config: ShardConfig,
    deps: ShardDeps,
  ) {
    const etf =
      config.encoding === 'etf'
        ? createEtfEncoding({ maxInflatedBytes: config.limits.maxInflatedBytes })
        : null;
    const clock = (this.clock = deps.clock ?? systemClock);
    const logger = (this.logger = deps.logger ?? consoleLogger('warn'));
    const prefix = (this.prefix = `Shard ${config.shardId}/${config.shardCount}:`);
    const delivery = new EventDelivery(config.shardId, logger, prefix, this.counters);
    this.delivery = delivery;
    const ctx: ShardContext = (this.ctx = {
      shardId: config.shardId,
      shardCount: config.shardCount,
      config,
      clock,
      random: deps.random ?? Math.random,
      logger,
      prefix,
      etf,
      counters: this.counters,
      delivery,
      link: this,
      observer: null,
    });
    this.inactiveSince = clock.now();
    this.filter = new DispatchFilter(config.eventTypes);
    this.urls = new ResumeUrlPolicy(config, logger, prefix);
    this.guilds = new GuildReadiness(ctx);
    const queue = deps.queue ?? new InMemoryIdentifyQueue({ maxConcurrency: 1, clock });
    this.handshake = new Handshake(ctx, queue, this.latency, this.urls, this.filter, this.guilds);
    this.receiver = new ReceivePath(ctx, this.filter, this.handshake, this.guilds);
    this.pump = new CommandPump(ctx);
    this.reconnect = new Reconnector(ctx);
    if (config.session) this.handshake.restore(config.session);
  }

  /** Attaches the metrics hooks (`null` detaches them): receive path, IDENTIFY, heartbeat ACKs. */
  observe(observer: ShardObserver | null): void {
    this.ctx.observer = observer;
    this.receiver.observer = observer;
    const shardId = this.ctx.shardId;
    this.latency.onSample = observer === null ? null : (ms) => observer.heartbeatAcked(shardId, ms);
  }

  /** The shard can no longer send: closed or fatally closed. */
  get stopped(): boolean {
    return this.state === ShardState.Closed || this.state === ShardState.FatallyClosed;
  }

  /** See `Shard.connect`. */
  connect(): Promise<void> {
    if (this.state === ShardState.FatallyClosed && this.fatalError !== null) {
      return Promise.reject(this.fatalError);
    }
    if (this.state === ShardState.Active) return Promise.resolve();
    const waiters = (this.connectWaiters ??= []);
    const ready = new Promise<void>((resolve, reject) => {
      waiters.push({ resolve, reject });
    });
    if (!this.running) {
      this.running = true;
      this.closing = null;
      this.inactiveSince = this.clock.now();
      this.receiver.startRecording();
      this.openGuarded();
    }
    return ready;
  }

  /** Queues an encoded-on-arrival user command (see `Shard.send`). */
  send(payload: GatewayCommand): Promise<void> {
    return this.pump.enqueue(payload, this.conn);
  }

  /** See `Shard.close`. */
  close(code: number): Promise<Session | null> {
    if (this.closing !== null) return this.closing;
    this.closing = this.shutdown(code).catch((error: unknown) => {
      this.logger.error(`${this.prefix} error while closing`, error);
      return this.handshake.session;
    });
    return this.closing;
  }

  // ---- ShardLink: what the parts ask of the driver ------------------------------------

  restart(
    conn: Connection,
    closeCode: number | null,
    reason: string,
    action: CloseAction,
    cause: DisconnectCause,
    minDelayMs = 0,
  ): void {
    if (conn.ended) return;
    this.endConnection(conn, closeCode);
    this.connectionEnded(conn, closeCode, reason, action, cause, minDelayMs);
  }

  badFrame(conn: Connection, error: GatewayError, action: CloseAction = 'resume'): void {
    this.delivery.reportBadFrame(error);
    this.restart(conn, RECONNECT_CLOSE_CODE, error.message, action, 'bad-frame');
  }

  stopFatally(error: GatewayError, code: number, cause: DisconnectCause): void {
    this.running = false;
    this.fatalError = error;
    this.reconnect.cancel();
    // A fatal close (4004, 4010-4014) ends the session for good: nothing left to store or resume.
    this.handshake.drop();
    if (this.conn !== null) this.endConnection(this.conn, RECONNECT_CLOSE_CODE);
    // FatalCloseError messages name the shard already.
    this.logger.error(
      error instanceof FatalCloseError ? error.message : `${this.prefix} ${error.message}`,
    );
    this.setState(ShardState.FatallyClosed);
    this.delivery.emit(EventType.ShardDisconnected, {
      code,
      reason: error.message,
      next: 'stop',
      cause,
    });
    this.delivery.emit(EventType.ShardFatal, { code, error });
    this.stopParts(error, error);
  }

  setState(state: ShardState): void {
    const previous = this.state;
    if (previous === state) return;
    this.state = state;
    if (state === ShardState.Active) this.inactiveSince = null;
    else if (previous === ShardState.Active) this.inactiveSince = this.clock.now();
    this.logger.debug(`${this.prefix} ${previous} -> ${state}`);
    this.delivery.emit(EventType.ShardStateChanged, { previous, state });
  }

  timeout(conn: Connection, phase: string, timeoutMs: number): void {
    if (conn !== this.conn || conn.ended) return;
    const error = new GatewayTimeoutError(phase, timeoutMs);
    this.logger.warn(`${this.prefix} ${error.message}; reconnecting`);
    this.delivery.emit(EventType.ShardError, { error });
    this.restart(conn, null, error.message, 'resume', 'handshake-timeout');
  }

  becomeActive(): void {
    this.activeSince = this.clock.now();
    this.setState(ShardState.Active);
  }

  afterActive(): void {
    const waiters = this.connectWaiters;
    this.connectWaiters = null;
    if (waiters !== null) for (const waiter of waiters) waiter.resolve();
    this.pump.pump(this.conn);
  }

  guard(conn: Connection, what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.unexpected(conn, what, error);
    }
  }

  /**
   * Something threw out of a callback of `conn` (its socket, a timer, a promise continuation).
   * Nothing may escape: ws would re-emit it where no one listens and the process would exit,
   * or, under a global uncaughtException handler, the shard would wait for ever in the middle
   * of a handshake. Logged, and the connection replaced with a RESUME.
   */
  private unexpected(conn: Connection, what: string, error: unknown): void {
    try {
      this.logger.error(
        `${this.prefix} unexpected error while handling ${what}; reconnecting`,
        error,
      );
      if (conn === this.conn && !conn.ended) {
        this.restart(
          conn,
          RECONNECT_CLOSE_CODE,
          `unexpected error while handling ${what}`,
          'resume',
          'internal-error',
        );
      }
    } catch {
      // The logger or a listener threw too: nothing more can be done without throwing.
    }
  }

  // ---- connections ----------------------------------------------------------------------

  /** openConnection, where nothing may throw: a failure is logged and retried with backoff. */
  private openGuarded(): void {
    try {
      this.openConnection();
      return;
    } catch (error) {
      const conn = this.conn;
      if (conn !== null && !conn.ended) {
        // It failed once the connection existed: end it like any other failure.
        this.unexpected(conn, 'a new connection', error);
        return;
      }
      this.logger.error(`${this.prefix} cannot open a connection; retrying with backoff`, error);
    }
    if (!this.running) return;
    const delayMs = this.reconnect.announce(0, this.handshake.canResume());
    if (this.running) this.reconnect.start(delayMs, () => this.openGuarded());
  }

  private openConnection(): void {
    if (!this.running) return;
    const resuming = this.handshake.canResume();
    const url = this.urls.target(resuming);
    const conn = new Connection(
      this.clock,
      ++this.generation,
      url,
      resuming,
      this.urls.usesResumeUrl(resuming),
    );
    this.conn = conn;
    this.counters.connections++;
    this.setState(ShardState.Connecting);
    this.logger.debug(`${this.prefix} connecting to ${url} (${resuming ? 'resume' : 'identify'})`);
    let socket: WebSocket;
    try {
      socket = new WebSocket(url, {
        maxPayload: this.config.limits.maxFrameBytes,
        perMessageDeflate: false,
        // decodeJson checks UTF-8 strictly on what is decoded; a dispatch the filter skips is never read as text.
        skipUTF8Validation: true,
      });
    } catch (error) {
      this.logger.warn(`${this.prefix} cannot open a WebSocket to ${url}: ${describeError(error)}`);
      this.connectionEnded(conn, null, 'socket could not be created', 'resume', 'connection-lost');
      return;
    }
    conn.socket = socket;
    const receiver = this.receiver;
    // No callback of the socket may throw (see unexpected()); try/catch costs the hot path nothing.
    socket.on('open', () => this.guard(conn, 'the socket opening', () => this.onOpen(conn)));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      try {
        receiver.onMessage(conn, data, isBinary);
      } catch (error) {
        this.unexpected(conn, 'a message', error);
      }
    });
    socket.on('error', (error: Error) =>
      this.guard(conn, 'a socket error', () => receiver.onSocketError(conn, error)),
    );
    socket.on('close', (code: number, reason: Buffer) =>
      this.guard(conn, 'the socket closing', () => this.onSocketClose(conn, code, reason)),
    );
    const connectMs = this.config.timeouts.connectMs;
    conn.setTimer(() => this.timeout(conn, 'the WebSocket to open', connectMs), connectMs);
  }

  private onOpen(conn: Connection): void {
    if (conn !== this.conn || conn.ended) return;
    conn.opened = true;
    conn.clearTimers();
    if (!this.receiver.openInflater(conn)) {
      this.restart(conn, RECONNECT_CLOSE_CODE, 'no inflater', 'resume', 'bad-frame');
      return;
    }
    const helloMs = this.config.timeouts.helloMs;
    conn.setTimer(() => this.timeout(conn, 'HELLO', helloMs), helloMs);
    this.logger.debug(
      `${this.prefix} connected; decoding with ${this.ctx.etf === null ? 'JSON.parse' : 'the ETF decoder'}; ws frames ${hasBufferutil() ? 'with bufferutil' : 'without bufferutil (JS fallback)'}`,
    );
    this.delivery.emit(EventType.ShardConnected, { url: conn.url, resuming: conn.resuming });
  }

  private onSocketClose(conn: Connection, code: number, reason: Buffer): void {
    if (conn !== this.conn || conn.ended) return;
    const closeCode = code === 1005 || code === 1006 ? null : code;
    // The reason is the server's text: escaped, so it can neither forge log lines nor drive a terminal.
    const text = printable(reason.toString('utf8'), MAX_REASON_LENGTH);
    const policy = closeCodePolicy(closeCode);
    if (conn.opened) {
      this.logger.warn(
        closeCode === null
          ? `${this.prefix} connection lost without a close frame (${policy.reason})`
          : `${this.prefix} connection closed by the gateway with ${closeCode} (${policy.reason}${text ? `: ${text}` : ''})`,
      );
    } else {
      // The socket never opened; onSocketError already said why (refused, 503, DNS, ...).
      this.logger.debug(`${this.prefix} the connection attempt ended before the socket opened`);
    }
    this.endConnection(conn, null);
    const why = conn.opened
      ? text || policy.reason
      : `the connection attempt failed before the socket opened${conn.connectError === null ? '' : `: ${printable(conn.connectError, MAX_REASON_LENGTH)}`}`;
    this.connectionEnded(
      conn,
      closeCode,
      why,
      policy.action,
      closeCode === null ? 'connection-lost' : 'server-close',
    );
  }

  /** Tears down everything `conn` owns; its socket gets `closeCode` or is terminated (`null`). */
  private endConnection(conn: Connection, closeCode: number | null): void {
    conn.end();
    if (this.conn === conn) {
      this.conn = null;
      this.pump.connectionEnded();
    }
    const socket = conn.socket;
    conn.socket = null;
    if (socket !== null) (this.closingSockets ??= new ClosingSockets()).close(socket, closeCode);
  }

  /** What follows a connection's end: stop, or reconnect (resume or identify). */
  private connectionEnded(
    conn: Connection,
    code: number | null,
    reason: string,
    action: CloseAction,
    cause: DisconnectCause,
    minDelayMs = 0,
  ): void {
    this.lastClose = { code, reason };
    const activeSince = this.activeSince;
    this.activeSince = null;
    this.reconnect.connectionEnded(activeSince === null ? null : this.clock.now() - activeSince);
    if (!this.running) return;
    const next = this.handshake.connectionEnded(conn, code, action);
    if (next === 'fatal') return;
    this.setState(ShardState.Disconnected);
    this.logger.debug(`${this.prefix} disconnected (${cause}); next: ${next}`);
    this.delivery.emit(EventType.ShardDisconnected, { code, reason, next, cause });
    const delayMs = this.reconnect.announce(minDelayMs, this.handshake.canResume());
    if (this.running) this.reconnect.start(delayMs, () => this.openGuarded());
  }

  // ---- stopping -------------------------------------------------------------------------

  private async shutdown(code: number): Promise<Session | null> {
    const wasRunning = this.running;
    this.running = false;
    this.reconnect.cancel();
    this.guilds.stop();
    const conn = this.conn;
    if (conn !== null) {
      this.endConnection(conn, code);
      this.lastClose = { code, reason: 'closed by the user' };
    }
    if (code === 1000 || code === 1001) this.handshake.drop();
    if (this.state !== ShardState.FatallyClosed) this.setState(ShardState.Closed);
    if (conn !== null && wasRunning) {
      this.delivery.emit(EventType.ShardDisconnected, {
        code,
        reason: 'closed by the user',
        next: 'stop',
        cause: 'user-close',
      });
    }
    const id = this.config.shardId;
    this.stopParts(new ShardClosedError(id, 'connect'), new ShardClosedError(id, 'send'));
    await this.closingSockets?.drain();
    // A shard that had already stopped (fatal close code, or never connected) sent nothing now.
    if (conn !== null && wasRunning) this.logger.log(`${this.prefix} closed with ${code}`);
    else this.logger.debug(`${this.prefix} closed (was not connected)`);
    return this.handshake.session;
  }

  /** Rejects connect() and the queued commands, ends the buffers and the recorder. */
  private stopParts(connectError: Error, sendError: Error): void {
    const waiters = this.connectWaiters;
    this.connectWaiters = null;
    if (waiters !== null) for (const waiter of waiters) waiter.reject(connectError);
    this.pump.rejectAll(sendError);
    this.delivery.end();
    this.pump.resetPresence();
    this.receiver.stopRecording();
  }
}
