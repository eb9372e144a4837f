import type { Clock, TimerHandle } from '../clock/clock.js';
import type { DisconnectCause } from './disconnect-cause.js';
import type { Latency } from './latency.js';

/**
 * Heartbeats in a row that may go un-ACKed while other frames keep arriving, once the
 * start-up backlog is over (JDA also tolerates two). With it, an ACK-starved connection is
 * closed two intervals after its first un-ACKed beat.
 */
export const DEFAULT_MAX_MISSED_ACKS = 2;

/** Which liveness rule found the connection dead. */
export type LivenessCause = Extract<DisconnectCause, 'zombie' | 'ack-timeout'>;

/** What the heartbeat needs from its connection. */
export interface HeartbeatHost {
  /** Sends `{"op":1,"d":<last sequence or null>}` now (GW-HB-3). */
  sendHeartbeat(): void;
  /**
   * The connection is dead by `cause` (GW-HB-4, GW-GT-7): `'zombie'` when nothing arrived
   * since an un-ACKed beat, `'ack-timeout'` when frames arrived but ACKs stayed missing.
   */
  onZombie(cause: LivenessCause): void;
}

/** What a connection's heartbeat asks of its owner (the handshake), with the connection. */
export interface HeartbeatOwner<C> {
  sendHeartbeat(conn: C): void;
  onZombie(conn: C, cause: LivenessCause): void;
}

/**
 * The {@link HeartbeatHost} of one connection `conn`: forwards to `owner`. One object of two
 * fields per connection, where two closures and their context held ~0.2 KiB.
 */
export class ConnectionHeartbeatHost<C> implements HeartbeatHost {
  constructor(
    private readonly owner: HeartbeatOwner<C>,
    private readonly conn: C,
  ) {}

  sendHeartbeat(): void {
    this.owner.sendHeartbeat(this.conn);
  }

  onZombie(cause: LivenessCause): void {
    this.owner.onZombie(this.conn, cause);
  }
}

/**
 * The heartbeat of ONE connection (GW-HB-2..5, GW-GT-6, GW-GT-7). Started at HELLO, before
 * IDENTIFY/RESUME; stopped when the connection ends, after which it never calls its host.
 *
 * Liveness, judged when a scheduled beat falls due while the previous beat is un-ACKed:
 * 1. If the timer fired more than half an interval late, the event loop was blocked and
 *    frames or the ACK may be waiting unread in the socket: beat again, judge at the next
 *    beat, and count nothing.
 * 2. If nothing arrived since that beat was sent, the verdict waits one I/O turn
 *    (`setImmediate`) so data already received by the OS is read first; still nothing: the
 *    connection is a zombie (`'zombie'`).
 * 3. If frames arrived ({@link frameSinceBeat}) but no ACK: during the start-up backlog
 *    ({@link backlog}, until the shard is guilds-ready or resumed) frames prove the connection
 *    alive, as Discord staff say of a connection still receiving (the ACK may be queued
 *    behind a large READY or GUILD_CREATE). After it, the beat counts as missed, and
 *    `maxMissedAcks` missed beats in a row end the connection (`'ack-timeout'`): Discord's
 *    rule is that a missing ACK means close and resume, and frames alone cannot keep an
 *    ACK-starved connection for ever.
 *
 * An ACK resets the count of missed beats.
 */
export class Heartbeat {
  /** Set by the connection on every received frame; cleared when a scheduled beat is sent. */
  frameSinceBeat = false;
  /**
   * True while the start-up backlog arrives (from HELLO until {@link endBacklog} at
   * guilds-ready or RESUMED): frames then prove life without a bound on missed ACKs.
   */
  backlog = true;

  private awaitingAck = false;
  private missedAcks = 0;
  private sentAt = 0;
  private dueAt = 0;
  private timer: TimerHandle | undefined = undefined;
  private immediate: NodeJS.Immediate | undefined = undefined;
  private stopped = false;

  /**
   * @param intervalMs `heartbeat_interval` from HELLO, ms.
   * @param random uniform in [0, 1): the first beat's jitter (GW-HB-2).
   * @param maxMissedAcks on-time beats in a row that may go un-ACKed while frames arrive,
   *   after the backlog; at least 1. Default {@link DEFAULT_MAX_MISSED_ACKS}.
   */
  constructor(
    private readonly clock: Clock,
    readonly intervalMs: number,
    private readonly random: () => number,
    private readonly host: HeartbeatHost,
    private readonly latency: Latency,
    readonly maxMissedAcks = DEFAULT_MAX_MISSED_ACKS,
  ) {}

  /** The shard is guilds-ready or resumed: missed ACKs count from now on. */
  endBacklog(): void {
    this.backlog = false;
  }

  /** On-time beats in a row whose ACK has not come (reset by an ACK). */
  get missed(): number {
    return this.missedAcks;
  }

  /** Schedules the first beat at `intervalMs * random()` (GW-HB-2, GW-GT-6). */
  start(): void {
    this.schedule(this.clock.now() + Math.floor(this.intervalMs * this.random()));
  }

  /** Op 11: records a latency sample; an ACK with no beat outstanding changes nothing. */
  ack(): void {
    if (!this.awaitingAck) return;
    this.awaitingAck = false;
    this.missedAcks = 0;
    this.latency.record(this.clock.now() - this.sentAt);
  }

  /** Server op 1: answer at once with op 1 (GW-HB-5); the schedule is kept. */
  requested(): void {
    if (this.stopped) return;
    if (!this.awaitingAck) {
      this.awaitingAck = true;
      this.sentAt = this.clock.now();
    }
    this.host.sendHeartbeat();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  private schedule(at: number): void {
    this.dueAt = at;
    this.timer = this.clock.setTimeout(this.tick, Math.max(0, at - this.clock.now()));
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.stopped) return;
    const onTime = this.clock.now() - this.dueAt <= this.intervalMs / 2;
    if (this.awaitingAck && onTime) {
      // A closure made only here, where an ACK is overdue: an idle connection keeps none.
      this.immediate = setImmediate(() => this.verdict());
      return;
    }
    this.beat();
  };

  /** Runs one I/O turn after an on-time beat fell due with the previous one un-ACKed. */
  private verdict(): void {
    this.immediate = undefined;
    if (this.stopped) return;
    if (this.awaitingAck) {
      if (!this.frameSinceBeat) return this.die('zombie');
      if (!this.backlog && ++this.missedAcks >= this.maxMissedAcks) return this.die('ack-timeout');
    }
    this.beat();
  }

  private die(cause: LivenessCause): void {
    this.stop();
    this.host.onZombie(cause);
  }

  private beat(): void {
    this.awaitingAck = true;
    this.sentAt = this.clock.now();
    this.frameSinceBeat = false;
    this.host.sendHeartbeat();
    if (this.stopped) return;
    const next = this.dueAt + this.intervalMs;
    this.schedule(next > this.clock.now() ? next : this.clock.now() + this.intervalMs);
  }
}
