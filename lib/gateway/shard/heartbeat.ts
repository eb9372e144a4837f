import type { Clock, TimerHandle } from '../clock/clock.js';
import type { Latency } from './latency.js';

/** What the heartbeat needs from its connection. */
export interface HeartbeatHost {
  /** Sends `{"op":1,"d":<last sequence or null>}` now (GW-HB-3). */
  sendHeartbeat(): void;
  /** No ACK arrived between two beats and nothing proves the connection alive (GW-HB-4). */
  onZombie(): void;
}

/**
 * The heartbeat of ONE connection (GW-HB-2..5, GW-GT-6, GW-GT-7). Started at HELLO, before
 * IDENTIFY/RESUME; stopped when the connection ends, after which it never calls its host.
 *
 * Zombie rule, checked when a scheduled beat falls due while the previous beat is un-ACKed:
 * 1. If any frame arrived since that beat was sent ({@link frameSinceBeat}), the connection is
 *    alive (per Discord staff, a connection still receiving is alive; the ACK may be queued
 *    behind a large READY/GUILD_CREATE): beat again.
 * 2. If the timer fired more than half an interval late, the event loop was blocked and
 *    frames may be waiting unread in the socket: beat again and judge at the next beat.
 * 3. Otherwise the verdict waits one I/O turn (`setImmediate`), so data already received by
 *    the OS is read first; if still no ACK and no frame, the connection is a zombie.
 */
export class Heartbeat {
  /** Set by the connection on every received frame; cleared when a scheduled beat is sent. */
  frameSinceBeat = false;

  private awaitingAck = false;
  private sentAt = 0;
  private dueAt = 0;
  private timer: TimerHandle | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private stopped = false;

  /**
   * @param intervalMs `heartbeat_interval` from HELLO, ms.
   * @param random uniform in [0, 1): the first beat's jitter (GW-HB-2).
   */
  constructor(
    private readonly clock: Clock,
    readonly intervalMs: number,
    private readonly random: () => number,
    private readonly host: HeartbeatHost,
    private readonly latency: Latency,
  ) {}

  /** Schedules the first beat at `intervalMs * random()` (GW-HB-2, GW-GT-6). */
  start(): void {
    this.schedule(this.clock.now() + Math.floor(this.intervalMs * this.random()));
  }

  /** Op 11: records a latency sample; an ACK with no beat outstanding changes nothing. */
  ack(): void {
    if (!this.awaitingAck) return;
    this.awaitingAck = false;
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
    const late = this.clock.now() - this.dueAt;
    if (this.awaitingAck && !this.frameSinceBeat && late <= this.intervalMs / 2) {
      this.immediate = setImmediate(this.verdict);
      return;
    }
    this.beat();
  };

  private readonly verdict = (): void => {
    this.immediate = undefined;
    if (this.stopped) return;
    if (this.awaitingAck && !this.frameSinceBeat) {
      this.stop();
      this.host.onZombie();
      return;
    }
    this.beat();
  };

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
