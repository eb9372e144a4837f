import type { Clock } from '../clock/clock.js';
import { checkResumeUrl } from '../config/rules.js';
import { describeError } from '../errors/errors.js';
import type { GatewayLogger } from '../logger.js';
import { sessionProblem, type Session, type SessionStore } from '../session/session.js';
import { SessionAutosave, type AutosavedShard } from './session-autosave.js';

/**
 * The cluster's sessions in its {@link SessionStore}, keyed by shard id and shard count (another
 * count's sessions are never resumed).
 *
 * By default a stored session is a one-time handoff: loaded by the next start, it stays
 * pending until its shard resumed, re-identified, or got op 9 `d:false`, and is then deleted,
 * so a crash later never replays events that were already delivered. A store that sets
 * `saveIntervalMs` keeps it instead: a {@link SessionAutosave} saves every Active shard's
 * session at that interval and as soon as the shard is Active. The cluster's stop saves the
 * sessions again (resumable close) or deletes them (close 1000).
 */
export class StoredSessions {
  /** Shards whose stored session is not yet consumed. */
  private readonly pending = new Set<number>();
  private autosave: SessionAutosave | null = null;

  constructor(
    private readonly store: SessionStore,
    private readonly logger: GatewayLogger,
    private readonly allowInsecureGateway: boolean,
    /** What is stored for a shard's session (an event sink lowers the sequence); `null`: the session itself. */
    private readonly toStore: ((id: number, session: Session) => Session) | null = null,
  ) {}

  /** Shards started with a stored session that is not yet consumed. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * The stored session of shard `id`, or null: none, unreadable, or unusable. An unusable one
   * (a resume URL this configuration may not send the token to, e.g. `ws:` kept from a local
   * test gateway while the gateway URL is `wss:`) is deleted, so one bad entry never stops the
   * start; that shard identifies. Never throws.
   */
  async load(id: number, shardCount: number, gatewayUrl: string): Promise<Session | null> {
    let session: Session | null;
    try {
      session = await this.store.load(id, shardCount);
    } catch (error) {
      this.logger.warn(
        `Cannot load the stored session of shard ${id}: ${describeError(error)}; it will identify`,
      );
      return null;
    }
    if (session === null) return null;
    // A store shared with other processes, or a custom one, may hand back anything.
    const problem = sessionProblem(session);
    const checked =
      problem === null
        ? checkResumeUrl(session.resumeUrl, gatewayUrl, this.allowInsecureGateway)
        : null;
    if (checked !== null && 'url' in checked) return session;
    this.logger.warn(
      `The stored session of shard ${id} is unusable (${checked === null ? problem : `resumeUrl ${checked.rule}`}); it is deleted and the shard identifies`,
    );
    await this.store.delete(id, shardCount).catch((error: unknown) => {
      this.logger.error(`Cannot delete the stored session of shard ${id}`, error);
    });
    return null;
  }

  /**
   * The shards of `ids` were created, each with its session of `sessions` (same index) or none:
   * those with one keep it in the store until it is consumed.
   */
  markPending(ids: readonly number[], sessions: readonly (Session | null)[]): void {
    ids.forEach((id, index) => {
      if (sessions[index] !== null) this.pending.add(id);
    });
  }

  /** Starts the periodic save of {@link SessionAutosave} when the store asks for it. */
  startAutosave(shardCount: number, shards: () => Iterable<AutosavedShard>, clock: Clock): void {
    const intervalMs = this.store.saveIntervalMs;
    if (intervalMs === undefined || this.autosave !== null) return;
    this.autosave = new SessionAutosave({
      store: this.store,
      toStore: this.toStore,
      intervalMs,
      shardCount,
      shards,
      clock,
      logger: this.logger,
    });
    this.autosave.start();
  }

  /**
   * Shard `id` no longer needs its stored session (it resumed, identified, or its session was
   * invalidated): deletes it from the store, unless `stopping` (then {@link persist} decides).
   * With the periodic save, it is kept, and saved at once when the shard is Active. Errors of
   * the store are logged.
   */
  consume(id: number, shardCount: number, stopping: boolean): void {
    if (this.autosave !== null) {
      this.pending.delete(id);
      this.autosave.saveNow(id);
      return;
    }
    if (!this.pending.delete(id) || stopping) return;
    this.store.delete(id, shardCount).catch((error: unknown) => {
      this.logger.error(`Cannot delete the stored session of shard ${id}`, error);
    });
  }

  /**
   * At stop, for every shard of `ids`: saves its session from `sessions` when there is one;
   * otherwise deletes the stored one, except after a resumable close for a shard whose stored
   * session is still pending (it was never used, so it may still resume next time). Never
   * throws: errors of the store are logged.
   */
  async persist(
    ids: readonly number[],
    shardCount: number,
    sessions: ReadonlyMap<number, Session>,
    resumable: boolean,
  ): Promise<void> {
    // The periodic saves still on their way must not land after these.
    await this.autosave?.stop();
    await Promise.all(
      ids.map(async (id) => {
        try {
          const session = sessions.get(id);
          if (session !== undefined) {
            await this.store.save(id, shardCount, this.toStore?.(id, session) ?? session);
          } else if (!resumable || !this.pending.has(id)) await this.store.delete(id, shardCount);
        } catch (error) {
          this.logger.error(
            `Cannot ${resumable ? 'save' : 'delete'} the stored session of shard ${id}`,
            error,
          );
        }
      }),
    );
  }
}
