import { GatewayOpcodes } from 'discord-api-types/v10';
import type { Clock } from '../clock/clock.js';
import type { PayloadEncoding } from '../codec/index.js';
import { buildCommand, serializePayload, type GatewayCommand } from './commands.js';
import type { Connection } from './connection.js';
import { PresenceLimiter } from './rate-limiter.js';
import type { ShardContext } from './shard-context.js';
import type { ShardCounters } from './stats.js';

interface PendingCommand {
  readonly op: number;
  /** An op 3 that already holds a presence slot (kept across a reconnect). */
  presenceSlot: boolean;
  readonly data: string | Buffer;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * The outgoing user commands of a shard: one queue, sent in order while a connection is
 * Active. Each takes a slot of the connection's send budget (GW-RL-1, its
 * `CommandRateLimiter`, made at HELLO) and, for op 3, of the shard's presence budget
 * (GW-RL-4). Without a free slot the queue waits (one promise per wait, none on the fast
 * path). The queue survives reconnects: what was not sent goes out on the next Active
 * connection.
 */
export class CommandPump {
  /** Made by the first command: most shards never send one. */
  private outbox: PendingCommand[] | null = null;
  /** A wait for a slot is running; it pumps again when it ends. */
  private waiting = false;
  /** Created by the first op 3: most shards never send one. */
  private presenceLimiter: PresenceLimiter | null = null;

  private readonly clock: Clock;
  private readonly counters: ShardCounters;
  private readonly etf: PayloadEncoding | undefined;
  private readonly presenceWindowMs: number;
  private readonly presenceMarginMs: number;

  constructor(ctx: ShardContext) {
    this.clock = ctx.clock;
    this.presenceWindowMs = ctx.config.limits.presenceWindowMs;
    this.presenceMarginMs = ctx.config.limits.presenceMarginMs;
    this.counters = ctx.counters;
    this.etf = ctx.etf ?? undefined;
  }

  /**
   * Queues `payload`, encoded now in the connection's encoding, and sends what it can on
   * `conn`, the shard's current connection. Resolves once written to the socket.
   *
   * @throws (rejects) PayloadTooLargeError over 4096 bytes (GW-ENV-4), CommandError on a bad
   *   shape; nothing is queued then.
   */
  enqueue(payload: GatewayCommand, conn: Connection | null): Promise<void> {
    let data: string | Buffer;
    try {
      data = serializePayload(buildCommand(payload), this.etf);
    } catch (error) {
      return Promise.reject(error);
    }
    const op = payload.op;
    const outbox = (this.outbox ??= []);
    return new Promise<void>((resolve, reject) => {
      outbox.push({ op, presenceSlot: false, data, resolve, reject });
      this.pump(conn);
    });
  }

  /** Sends queued commands on `conn` (the shard's current connection) while it is Active. */
  pump(conn: Connection | null): void {
    if (this.waiting) return;
    if (conn === null || !conn.active || conn.ended || conn.limiter === null) return;
    const limiter = conn.limiter;
    while (this.outbox !== null && this.outbox.length > 0) {
      const command = this.outbox[0] as PendingCommand;
      if (command.op === GatewayOpcodes.PresenceUpdate && !command.presenceSlot) {
        const presenceLimiter = (this.presenceLimiter ??= new PresenceLimiter({
          clock: this.clock,
          windowMs: this.presenceWindowMs,
          marginMs: this.presenceMarginMs,
        }));
        if (!presenceLimiter.tryAcquire()) {
          this.waitForSlot(conn, presenceLimiter.waitForPresence(conn.signal), () => {
            command.presenceSlot = true;
          });
          return;
        }
        command.presenceSlot = true;
      }
      if (!limiter.tryAcquire()) {
        this.waitForSlot(conn, limiter.waitForCommand(conn.signal), () =>
          this.transmit(conn, command),
        );
        return;
      }
      this.transmit(conn, command);
    }
  }

  /** The current connection ended: its wait (aborted with it) no longer holds the queue. */
  connectionEnded(): void {
    this.waiting = false;
  }

  /** Rejects every queued command with `error` (the shard closed or stopped). */
  rejectAll(error: Error): void {
    const outbox = this.outbox;
    this.outbox = null;
    if (outbox !== null) for (const command of outbox) command.reject(error);
  }

  /** Forgets the presence budget (the shard closed or stopped). */
  resetPresence(): void {
    this.presenceLimiter?.reset();
  }

  private waitForSlot(conn: Connection, wait: Promise<void>, then: () => void): void {
    this.waiting = true;
    wait.then(
      () => {
        if (conn.ended) return;
        this.waiting = false;
        then();
        this.pump(conn);
      },
      ignore, // the connection ended; the next Active connection pumps again
    );
  }

  private transmit(conn: Connection, command: PendingCommand): void {
    this.outbox?.shift();
    this.counters.commandsSent++;
    conn.send(command.data);
    command.resolve();
  }
}

function ignore(): void {}
