import type { EventTypeFlags } from '../events/event-type-flags.js';
import type { GatewayEvent } from '../events/gateway-event.js';
import type { Session } from '../session/session.js';

/**
 * Where a Cluster hands every event on to other processes (the Redis event streams of
 * `nestjs-discord-gateway/redis`, for example). The Cluster calls it on its event path, before
 * its own listeners; without one the cost is one null check per event.
 *
 * `Host` is what `attach` receives: the Cluster itself (an implementation names it,
 * `EventSink<Cluster>`; this file does not, so that the Cluster's files import nothing back).
 */
export interface EventSink<Host = unknown> {
  /**
   * The dispatch types the sink takes. The Cluster's shards decode them whatever its own
   * listeners ask for (read once, at construction).
   */
  readonly eventTypes: EventTypeFlags;
  /**
   * Called by `up()` once the shards exist, before they connect, with the sessions the shards
   * start from (by shard id). May start the sink's own work (reports, commands).
   */
  attach(cluster: Host, sessions: ReadonlyMap<number, Session>): void;
  /** Every event of every shard, in arrival order per shard. Must not throw. */
  publish(event: GatewayEvent): void;
  /**
   * The session to store for a shard instead of `session`: the sequence lowered to the last
   * position the sink has safely handed on, and the fields it numbers its output with (a
   * generation). The Cluster's periodic and final saves store this.
   */
  sessionToSave(shardId: number, session: Session): Session;
  /**
   * Called at the Cluster's stop, after its shards closed and before their sessions are saved:
   * hands on what is still buffered (bounded in time) and ends the sink's work. Never rejects.
   */
  detach(): Promise<void>;
}
