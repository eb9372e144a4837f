import type { Clock, TimerHandle } from '../clock/clock.js';
import { describeError } from '../errors/errors.js';
import type { GatewayLogger } from '../logger.js';
import type { Session, SessionStore } from '../session/session.js';
import { ShardState } from '../shard/shard-state.js';

/** What the autosave reads of a shard. */
export interface AutosavedShard {
  readonly id: number;
  readonly state: ShardState;
  readonly session: Session | null;
}

/** Collaborators of a {@link SessionAutosave}. */
export interface SessionAutosaveDeps {
  readonly store: SessionStore;
  /** What is saved for a shard's session; `null`: the session itself. */
  readonly toStore?: ((id: number, session: Session) => Session) | null;
  /** Ms between two saves of one shard's session. */
  readonly intervalMs: number;
  readonly shardCount: number;
  /** The shards whose sessions are saved, read at each round. */
  readonly shards: () => Iterable<AutosavedShard>;
  readonly clock: Clock;
  readonly logger: GatewayLogger;
}

/**
 * Saves the session of every Active shard to a store that asks for it
 * (`SessionStore.saveIntervalMs`), so that a process that dies without shutting down (a crash,
 * SIGKILL, a lost machine) is resumed by the next one from a sequence at most one interval
 * old. Discord then replays what followed that sequence: the events of that interval are
 * delivered twice (at least once).
 *
 * - Every Active shard's session is saved each interval, changed or not: each save starts the
 *   store's TTL again (an idle shard's session must not expire), and a store that lost its
 *   data (a Redis restart) has it back within one interval. At most one save per shard is on
 *   its way at a time; {@link saveNow} saves one at once (the shard just became Active).
 * - A failing store is logged once per outage (warn), and once when saves work again; the
 *   shards are never touched.
 * - {@link stop} ends the rounds and waits for the saves on their way, so the final save of a
 *   shutdown lands after them.
 */
export class SessionAutosave {
  private readonly inFlight = new Map<number, Promise<void>>();
  private timer: TimerHandle | undefined;
  private stopped = false;
  private failingSince: number | null = null;

  constructor(private readonly deps: SessionAutosaveDeps) {}

  start(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.schedule();
  }

  /** Saves shard `shardId`'s session now when it is Active. */
  saveNow(shardId: number): void {
    for (const shard of this.deps.shards()) {
      if (shard.id === shardId) this.save(shard);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all(this.inFlight.values());
  }

  private schedule(): void {
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      for (const shard of this.deps.shards()) this.save(shard);
      this.schedule();
    }, this.deps.intervalMs);
  }

  private save(shard: AutosavedShard): void {
    if (this.stopped || shard.state !== ShardState.Active || this.inFlight.has(shard.id)) return;
    const session = shard.session;
    if (session === null) return;
    const stored = this.deps.toStore?.(shard.id, session) ?? session;
    const saving = this.deps.store.save(shard.id, this.deps.shardCount, stored).then(
      () => this.recovered(),
      (error: unknown) => this.failed(error),
    );
    this.inFlight.set(shard.id, saving);
    void saving.finally(() => this.inFlight.delete(shard.id));
  }

  private failed(error: unknown): void {
    if (this.failingSince !== null) return;
    this.failingSince = this.deps.clock.now();
    this.deps.logger.warn(
      `Cannot save the sessions of Active shards (${describeError(error)}); retrying every ` +
        `${this.deps.intervalMs} ms. A process that dies meanwhile is resumed from an older sequence, or identifies`,
    );
  }

  private recovered(): void {
    if (this.failingSince === null) return;
    this.deps.logger.log(
      `Sessions are saved again (after ${Math.round(this.deps.clock.now() - this.failingSince)} ms)`,
    );
    this.failingSince = null;
  }
}
