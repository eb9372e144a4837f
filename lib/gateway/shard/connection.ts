import WebSocket from 'ws';
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { Inflater } from '../codec/inflater.js';
import type { Heartbeat } from './heartbeat.js';
import type { CommandRateLimiter } from './rate-limiter.js';

/**
 * The state of ONE WebSocket connection of a shard (GW-GT-8): its socket, inflate context,
 * heartbeat, timers and identify wait all live and die here. The shard replaces the whole
 * object on reconnect, after ending the old one: only the current connection has not
 * {@link ended}, so a callback that checks it never lets a late event of an old socket
 * touch the new connection.
 */
export class Connection {
  socket: WebSocket | null = null;
  inflater: Inflater | null = null;
  heartbeat: Heartbeat | null = null;
  /** The send budget of this connection (GW-RL-1: it resets with each connection); from HELLO. */
  limiter: CommandRateLimiter | null = null;
  /** The WebSocket opened (the upgrade succeeded). */
  opened = false;
  /** Why the attempt failed when the socket errored before it opened (refused, 503, DNS, ...). */
  connectError: string | null = null;
  /** HELLO arrived on this connection. */
  helloReceived = false;
  /** IDENTIFY or RESUME was sent. */
  handshakeSent = false;
  /** READY or RESUMED arrived: the connection is Active. */
  active = false;
  /** Dispatches received between RESUME and RESUMED (replayed by the server, GW-RS-3). */
  replayed = 0;
  /** The connection has been torn down; every later callback for it is ignored. */
  ended = false;
  /** Created on demand: an idle Active connection holds neither (~0.8 KiB of heap per shard). */
  private timers: Set<TimerHandle> | null = null;
  private controller: AbortController | null = null;

  /**
   * @param generation counts connections of the shard, from 1.
   * @param url the URL connected to, query string included.
   * @param resuming whether this connection sends RESUME (true) or IDENTIFY (false).
   * @param viaResumeUrl whether `url` is the session's resume URL (GW-GT-1 fallback counting).
   */
  constructor(
    private readonly clock: Clock,
    readonly generation: number,
    readonly url: string,
    readonly resuming: boolean,
    readonly viaResumeUrl: boolean,
  ) {}

  /** Aborted when this connection ends: for the identify-queue and rate-limit waits. */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.ended) this.controller.abort();
    }
    return this.controller.signal;
  }

  /**
   * Drops the abort signal once the wait that used it is over (the identify wait): an idle
   * connection keeps no AbortController. A later wait gets a new one.
   */
  releaseSignal(): void {
    if (!this.ended) this.controller = null;
  }

  /**
   * A timer owned by this connection: cleared by {@link clearTimer} or when it ends. Once the
   * connection has ended nothing is scheduled (`undefined`): a listener may close the shard
   * while the handshake is still being sent, and the guard armed after it must not outlive it.
   */
  setTimer(callback: () => void, delayMs: number): TimerHandle | undefined {
    if (this.ended) return undefined;
    const handle = this.clock.setTimeout(() => {
      this.timers?.delete(handle);
      if (!this.ended) callback();
    }, delayMs);
    (this.timers ??= new Set()).add(handle);
    return handle;
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    this.timers?.delete(handle);
    this.clock.clearTimeout(handle);
  }

  /** Clears every timer of this connection (e.g. the handshake guard once its wait is over). */
  clearTimers(): void {
    if (this.timers === null) return;
    for (const handle of this.timers) this.clock.clearTimeout(handle);
    this.timers = null;
  }

  /** Writes one frame, already in the connection's encoding; dropped unless the socket is open. */
  send(frame: string | Buffer): void {
    const socket = this.socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) return;
    socket.send(frame);
  }

  /** Stops everything this connection owns except the socket, which the shard closes itself. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.clearTimers();
    this.heartbeat?.stop();
    this.heartbeat = null;
    this.limiter?.reset();
    this.inflater?.close();
    this.inflater = null;
    this.controller?.abort();
  }
}
