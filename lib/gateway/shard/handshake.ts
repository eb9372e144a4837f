import { GatewayIntentBits, GatewayOpcodes } from 'discord-api-types/v10';
import {
  describeError,
  AbortedError,
  FatalCloseError,
  GatewayError,
  ProtocolError,
  ResumeUrlRefusedError,
  ShardClosedError,
} from '../errors/errors.js';
import { EventType } from '../events/event-type.js';
import type { IdentifyQueue } from '../queue/identify-queue.js';
import { sessionIdProblem, type Session } from '../session/session.js';
import { closeCodePolicy, type CloseAction } from './close-codes.js';
import { serializePayload } from './commands.js';
import type { Connection } from './connection.js';
import type { DispatchFilter } from './dispatch-filter.js';
import type { GuildReadiness } from './guild-readiness.js';
import { ConnectionHeartbeatHost, Heartbeat, type LivenessCause } from './heartbeat.js';
import type { Latency } from './latency.js';
import { CommandRateLimiter } from './rate-limiter.js';
import type { ResumeUrlPolicy } from './resume-url.js';
import { RECONNECT_CLOSE_CODE, type ShardContext } from './shard-context.js';
import { ShardState } from './shard-state.js';

/**
 * RESUMEs in a row that end before RESUMED, after which the shard identifies a new session
 * (GW-GT-13): a dispatch the shard can never take (over a size cap, undecodable) is replayed
 * by every RESUME, so resuming again would loop forever.
 */
export const MAX_FAILED_RESUMES = 3;
/** Fewer user command slots per window than this after the heartbeat reserve earns a warning. */
const MIN_COMMAND_SLOTS = 10;
/** The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;
const PRIVILEGED_INTENTS: readonly [string, number][] = [
  ['GuildMembers', GatewayIntentBits.GuildMembers],
  ['GuildPresences', GatewayIntentBits.GuildPresences],
  ['MessageContent', GatewayIntentBits.MessageContent],
];

/**
 * The shortest HELLO `heartbeat_interval` a shard accepts, in ms: heartbeats may take at most
 * half of the send budget (`limits.commandsPerWindow` per `limits.commandWindowMs`, GW-RL-1).
 * With the defaults 1 000 ms; Discord's is 41 250. A test gateway with a short interval and a
 * send window shrunk in proportion (README: Testing) stays well above it.
 */
export function minHeartbeatIntervalMs(limits: {
  readonly commandsPerWindow: number;
  readonly commandWindowMs: number;
}): number {
  return Math.ceil((2 * limits.commandWindowMs) / limits.commandsPerWindow);
}

/**
 * The handshake and session policy of a shard (docs/protocol.md sections 3-9):
 * - after HELLO: start the heartbeat, then RESUME when the connection was opened to resume
 *   (a session and a sequence exist), else wait for the identify queue and IDENTIFY;
 * - READY starts a session (its id, resume URL and guilds) and makes the shard Active;
 *   READY without `session_id` identifies again;
 * - RESUMED makes a resuming connection Active; a RESUMED without a RESUME is ignored;
 * - op 7 RECONNECT resumes on a new connection; op 9 INVALID_SESSION resumes when it says
 *   resumable and a session exists, else drops the session and identifies after a random
 *   `invalidSessionDelayMs` wait;
 * - after a connection ended: fatal close codes stop the shard, `identify` drops the session,
 *   and {@link MAX_FAILED_RESUMES} RESUMEs in a row that never reached RESUMED do too.
 *
 * It holds the session: id and sequence (the receive path advances the sequence).
 */
export class Handshake {
  sessionId: string | null = null;
  /** The last dispatch sequence of the session (GW-GT-5); advanced by the receive path. */
  sequence: number | null = null;
  private failedResumes = 0;
  private warnedCommandSlots = false;

  /** @param queue paces IDENTIFY; @param latency takes the heartbeat round trips. */
  constructor(
    private readonly ctx: ShardContext,
    private readonly queue: IdentifyQueue,
    private readonly latency: Latency,
    private readonly urls: ResumeUrlPolicy,
    private readonly filter: DispatchFilter,
    private readonly guilds: GuildReadiness,
  ) {}

  /** What a RESUME needs (GW-RS-1), or `null` when there is no session. */
  get session(): Session | null {
    if (this.sessionId === null || this.sequence === null) return null;
    return {
      id: this.sessionId,
      sequence: this.sequence,
      resumeUrl: this.urls.url ?? '',
    };
  }

  /** Takes over a session handed over at creation (`''`: no resume URL). */
  restore(session: Session): void {
    this.sessionId = session.id;
    this.sequence = session.sequence;
    this.urls.accept(session.resumeUrl || null);
  }

  canResume(): boolean {
    return this.sessionId !== null && this.sequence !== null;
  }

  /** Forgets the session: the next connection identifies on the base URL. */
  drop(): void {
    this.sessionId = null;
    this.sequence = null;
    this.urls.drop();
    this.failedResumes = 0;
    this.guilds.stop();
  }

  /** Op 10 HELLO on `conn`: heartbeat, send budget, then RESUME or IDENTIFY. */
  onHello(conn: Connection, d: unknown): void {
    const { config, delivery, logger, prefix } = this.ctx;
    if (conn.helloReceived) {
      delivery.reportBadFrame(new ProtocolError('Second HELLO on one connection; ignored'));
      return;
    }
    const interval = (d as { heartbeat_interval?: unknown } | null)?.heartbeat_interval;
    const minInterval = minHeartbeatIntervalMs(config.limits);
    // Above MAX_TIMER_MS a timer fires at once (Node clamps it to 1 ms): a heartbeat storm; so
    // does a tiny interval, which also spends the send budget on heartbeats alone.
    if (
      typeof interval !== 'number' ||
      !Number.isFinite(interval) ||
      interval < minInterval ||
      interval > MAX_TIMER_MS
    ) {
      this.ctx.link.badFrame(
        conn,
        new ProtocolError(
          `HELLO without a heartbeat_interval in [${minInterval}, ${MAX_TIMER_MS}] ms; reconnecting`,
        ),
      );
      return;
    }
    conn.helloReceived = true;
    conn.clearTimers();
    this.urls.helloReceived(conn);
    logger.debug(`${prefix} <- op 10 HELLO (heartbeat every ${interval} ms)`);
    const limits = config.limits;
    conn.limiter = new CommandRateLimiter({
      clock: this.ctx.clock,
      heartbeatIntervalMs: interval,
      limit: limits.commandsPerWindow,
      windowMs: limits.commandWindowMs,
      heartbeatReserve: limits.heartbeatReserve,
      marginMs: limits.commandMarginMs,
    });
    const commandSlots = limits.commandsPerWindow - conn.limiter.heartbeatReserve;
    if (commandSlots < MIN_COMMAND_SLOTS && !this.warnedCommandSlots) {
      this.warnedCommandSlots = true;
      logger.warn(
        `${prefix} a ${interval} ms heartbeat leaves only ${commandSlots} command(s) per ` +
          `${limits.commandWindowMs} ms window; against a test gateway with a short ` +
          `interval, shorten limits.commandWindowMs to match its send window`,
      );
    }
    conn.heartbeat = new Heartbeat(
      this.ctx.clock,
      interval,
      this.ctx.random,
      new ConnectionHeartbeatHost(this, conn),
      this.latency,
      config.maxMissedAcks,
    );
    conn.heartbeat.frameSinceBeat = true;
    conn.heartbeat.start();
    if (conn.resuming) this.sendResume(conn);
    else this.identify(conn);
  }

  /**
   * Whether `conn` may take a READY: it sent IDENTIFY. A READY before IDENTIFY, or on a
   * connection that RESUMEd, starts no session and does not make the shard Active.
   */
  awaitsReady(conn: Connection): boolean {
    return !conn.resuming && conn.handshakeSent;
  }

  /** READY on `conn` (its dispatch data `d`, sequence `sequence`). */
  onReady(conn: Connection, d: unknown, sequence: number | null): void {
    const { delivery } = this.ctx;
    const urls = this.urls;
    const ready = (typeof d === 'object' && d !== null ? d : {}) as {
      session_id?: unknown;
      resume_gateway_url?: unknown;
      guilds?: unknown;
    };
    const sessionId = ready.session_id;
    // Bounded where it enters: the RESUME that sends it back must fit 4096 bytes.
    const idProblem = sessionIdProblem(sessionId);
    if (idProblem !== null) {
      this.ctx.link.badFrame(
        conn,
        new ProtocolError(
          sessionId === undefined || sessionId === null || sessionId === ''
            ? 'READY without session_id; identifying again'
            : `READY session_id ${idProblem}; identifying again`,
        ),
        'identify',
      );
      return;
    }
    this.sessionId = sessionId as string;
    const resumeUrl = urls.check(ready.resume_gateway_url);
    if ('rule' in resumeUrl && !resumeUrl.repeated) {
      delivery.reportBadFrame(new ResumeUrlRefusedError('ready', resumeUrl.rule));
    }
    urls.accept('url' in resumeUrl ? resumeUrl.url : null);
    const guildIds: string[] = [];
    if (Array.isArray(ready.guilds)) {
      for (const guild of ready.guilds as { id?: unknown }[]) {
        if (typeof guild?.id === 'string') guildIds.push(guild.id);
      }
    }
    this.ctx.logger.log(
      `${this.ctx.prefix} READY (session ${this.sessionId}, ${guildIds.length} guilds)`,
    );
    this.becomeActive(conn);
    if (this.filter.wanted.has('READY')) delivery.deliver(EventType.Ready, d, sequence);
    // A listener may have closed the shard.
    if (conn.ended) return;
    delivery.emit(EventType.ShardReady, { sessionId: this.sessionId, guildCount: guildIds.length });
    if (conn.ended) return;
    // The start-up backlog ends at guilds-ready: from then on ACKs are owed (GW-GT-7).
    this.guilds.start(guildIds, () => conn.heartbeat?.endBacklog());
    this.ctx.link.afterActive();
  }

  /** RESUMED on `conn`. */
  onResumed(conn: Connection, d: unknown, sequence: number | null): void {
    const { delivery } = this.ctx;
    if (!conn.resuming || !conn.handshakeSent || conn.active) {
      delivery.reportBadFrame(
        new ProtocolError('RESUMED for a session this connection never resumed; ignored'),
      );
      return;
    }
    this.ctx.logger.log(
      `${this.ctx.prefix} RESUMED (session ${this.sessionId}, ${conn.replayed} replayed)`,
    );
    this.becomeActive(conn);
    // The replay came before RESUMED: no backlog is left.
    conn.heartbeat?.endBacklog();
    if (this.filter.wanted.has('RESUMED')) delivery.deliver(EventType.Resumed, d, sequence);
    if (conn.ended) return;
    delivery.emit(EventType.ShardResumed, {
      sessionId: this.sessionId as string,
      replayed: conn.replayed,
    });
    this.ctx.link.afterActive();
  }

  /** Op 7 RECONNECT: resume on a new connection. */
  onReconnect(conn: Connection): void {
    this.ctx.logger.debug(`${this.ctx.prefix} <- op 7 RECONNECT`);
    this.ctx.link.restart(
      conn,
      RECONNECT_CLOSE_CODE,
      'op 7 RECONNECT',
      'resume',
      'reconnect-requested',
    );
  }

  /** Op 9 INVALID_SESSION (`d: resumable`). */
  onInvalidSession(conn: Connection, resumable: boolean): void {
    const { config, link } = this.ctx;
    this.ctx.logger.warn(`${this.ctx.prefix} <- op 9 INVALID_SESSION (resumable: ${resumable})`);
    this.ctx.delivery.emit(EventType.ShardInvalidSession, { resumable });
    if (resumable && this.canResume()) {
      link.restart(
        conn,
        RECONNECT_CLOSE_CODE,
        'op 9 INVALID_SESSION (resumable)',
        'resume',
        'invalid-session',
      );
      return;
    }
    this.drop();
    const { min, max } = config.invalidSessionDelayMs;
    const delayMs = Math.round(min + (max - min) * this.ctx.random());
    link.restart(
      conn,
      RECONNECT_CLOSE_CODE,
      'op 9 INVALID_SESSION (not resumable)',
      'identify',
      'invalid-session',
      delayMs,
    );
  }

  /**
   * `conn` ended with close `code` (`null`: none) and `action` (from the close-code table, or
   * ours when we ended it). Stops the shard on `fatal` and returns `'fatal'`; else returns how
   * the next connection starts, the session dropped first when it cannot be resumed.
   */
  connectionEnded(conn: Connection, code: number | null, action: CloseAction): CloseAction {
    const { logger, prefix } = this.ctx;
    this.urls.connectionEnded(conn);
    if (action === 'fatal') {
      this.ctx.link.stopFatally(
        new FatalCloseError(
          this.ctx.shardId,
          code ?? 0,
          closeCodePolicy(code).reason,
          code === 4014 ? this.privilegedIntents() : [],
        ),
        code ?? 0,
        'server-close',
      );
      return 'fatal';
    }
    if (conn.resuming && conn.handshakeSent && !conn.active && action === 'resume') {
      this.failedResumes++;
      if (this.failedResumes >= MAX_FAILED_RESUMES && this.canResume()) {
        logger.warn(
          `${prefix} RESUME failed ${this.failedResumes} times in a row; identifying a new session`,
        );
        action = 'identify';
      }
    }
    if (action === 'identify') this.drop();
    return this.canResume() ? 'resume' : 'identify';
  }

  private identify(conn: Connection): void {
    const { clock, link, logger, prefix, shardId } = this.ctx;
    link.setState(ShardState.Identifying);
    const queuedAt = clock.now();
    this.queue.enqueue(shardId, conn.signal).then(
      () => {
        if (conn.ended) return;
        conn.releaseSignal();
        link.guard(conn, 'the identify grant', () =>
          this.sendIdentify(conn, clock.now() - queuedAt),
        );
      },
      (error: unknown) => {
        if (conn.ended || error instanceof AbortedError) return;
        const failure =
          error instanceof GatewayError
            ? error
            : new ShardClosedError(shardId, 'wait in the identify queue');
        logger.error(`${prefix} the identify queue refused: ${describeError(error)}`);
        link.stopFatally(failure, 0, 'identify-refused');
      },
    );
  }

  /** @param queueWaitMs how long the identify queue held it, for metrics */
  private sendIdentify(conn: Connection, queueWaitMs: number): void {
    const { config, shardId, shardCount } = this.ctx;
    // A new session starts: the sequence starts again with READY (GW-GT-5).
    this.sequence = null;
    let frame: string | Buffer;
    try {
      frame = this.encode({
        op: GatewayOpcodes.Identify,
        d: {
          token: config.token.reveal(),
          properties: config.identifyProperties,
          compress: false,
          large_threshold: config.largeThreshold,
          shard: [shardId, shardCount],
          ...(config.presence === null ? {} : { presence: config.presence }),
          intents: config.intents,
        },
      });
    } catch (error) {
      // Only an oversized presence can do this; no retry can fix it (GW-GT-15).
      this.ctx.link.stopFatally(error as GatewayError, 0, 'identify-refused');
      return;
    }
    this.ctx.logger.debug(
      `${this.ctx.prefix} -> op 2 IDENTIFY (shard [${shardId}, ${shardCount}])`,
    );
    conn.limiter?.acquireHeartbeat();
    conn.send(frame);
    conn.handshakeSent = true;
    this.ctx.observer?.identifySent(shardId, queueWaitMs);
    this.armReadyTimer(conn, 'READY');
  }

  private sendResume(conn: Connection): void {
    let frame: string | Buffer;
    try {
      frame = this.encode({
        op: GatewayOpcodes.Resume,
        d: {
          token: this.ctx.config.token.reveal(),
          session_id: this.sessionId,
          seq: this.sequence,
        },
      });
    } catch (error) {
      // Bounded sessions and tokens keep a RESUME far below 4096 bytes; should one still not
      // fit, the session cannot be resumed: start a new one.
      this.ctx.link.badFrame(
        conn,
        new ProtocolError(`RESUME cannot be sent (${describeError(error)}); identifying instead`),
        'identify',
      );
      return;
    }
    this.ctx.logger.debug(`${this.ctx.prefix} -> op 6 RESUME (seq ${this.sequence})`);
    conn.limiter?.acquireHeartbeat();
    conn.send(frame);
    conn.handshakeSent = true;
    // Resuming only once the RESUME is on the wire: a close(1000) from a listener of this
    // state change then reaches the gateway after it, so the gateway knows which session
    // the close ends (GW-CL-1) instead of keeping it until it expires.
    this.ctx.link.setState(ShardState.Resuming);
    this.armReadyTimer(conn, 'RESUMED');
  }

  private armReadyTimer(conn: Connection, what: string): void {
    const readyMs = this.ctx.config.timeouts.readyMs;
    conn.setTimer(() => this.ctx.link.timeout(conn, what, readyMs), readyMs);
  }

  private becomeActive(conn: Connection): void {
    conn.active = true;
    conn.clearTimers();
    this.failedResumes = 0;
    this.ctx.link.becomeActive();
  }

  /** The heartbeat of `conn` is due (scheduled or requested by the server). */
  sendHeartbeat(conn: Connection): void {
    this.ctx.link.guard(conn, 'a heartbeat', () => this.writeHeartbeat(conn));
  }

  /** A liveness rule of the heartbeat of `conn` fired. */
  onZombie(conn: Connection, cause: LivenessCause): void {
    this.ctx.link.guard(conn, 'a zombie check', () => this.restartDead(conn, cause));
  }

  private writeHeartbeat(conn: Connection): void {
    if (conn.ended) return;
    const etf = this.ctx.etf;
    this.ctx.counters.heartbeatsSent++;
    conn.limiter?.acquireHeartbeat();
    conn.send(
      etf === null
        ? this.sequence === null
          ? '{"op":1,"d":null}'
          : `{"op":1,"d":${this.sequence}}`
        : etf.encode({ op: GatewayOpcodes.Heartbeat, d: this.sequence }),
    );
  }

  /**
   * A liveness rule fired (GW-HB-4, GW-GT-7). A zombie gets no close frame (nothing comes back
   * on it); an ACK-starved connection that still delivers frames gets a non-1000 close, so the
   * session stays resumable.
   */
  private restartDead(conn: Connection, cause: LivenessCause): void {
    if (conn.ended) return;
    const { logger, prefix, config } = this.ctx;
    if (cause === 'zombie') {
      logger.warn(
        `${prefix} zombie: no heartbeat ACK and no frame between two heartbeats; resuming`,
      );
      this.ctx.link.restart(conn, null, 'zombie connection (no heartbeat ACK)', 'resume', cause);
      return;
    }
    logger.warn(
      `${prefix} ack-timeout: frames arrive but ${config.maxMissedAcks} heartbeats in a row got no ACK; resuming`,
    );
    this.ctx.link.restart(
      conn,
      RECONNECT_CLOSE_CODE,
      `no heartbeat ACK for ${config.maxMissedAcks} heartbeats`,
      'resume',
      cause,
    );
  }

  /**
   * IDENTIFY or RESUME in the connection's encoding, measured as sent (GW-ENV-4).
   * @throws PayloadTooLargeError over 4096 bytes.
   */
  private encode(payload: { op: number; d: unknown }): string | Buffer {
    return serializePayload(payload, this.ctx.etf ?? undefined);
  }

  private privilegedIntents(): string[] {
    const intents = this.ctx.config.intents;
    return PRIVILEGED_INTENTS.filter(([, bit]) => (intents & bit) !== 0).map(([name]) => name);
  }
}
