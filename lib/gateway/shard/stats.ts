/** Cheap counters of a shard's receive path, since creation. */
export interface ShardStats {
  /** WebSocket messages received (compressed fragments included). */
  readonly framesReceived: number;
  /** Complete gateway payloads (after inflating). */
  readonly payloadsReceived: number;
  /** Dispatches fully decoded (JSON.parse). */
  readonly dispatchesDecoded: number;
  /** Dispatches skipped by the EventTypeFlags filter: peeked only, sequence still tracked. */
  readonly dispatchesSkipped: number;
  /** Dispatches dropped because their `s` was already seen in this session (never re-delivered). */
  readonly duplicatesDropped: number;
  /** Frames that could not be decoded or broke the protocol (each reported as SHARD_ERROR). */
  readonly badFrames: number;
  /** Heartbeats sent (scheduled and requested). */
  readonly heartbeatsSent: number;
  /** User commands sent. */
  readonly commandsSent: number;
  /** Events dropped because an `events()` buffer was full. */
  readonly eventsDropped: number;
  /** WebSocket connections opened (attempts). */
  readonly connections: number;
}

/** The counters as the parts of a shard bump them: one object per shard, shared by its parts. */
export type ShardCounters = { -readonly [K in keyof ShardStats]: ShardStats[K] };

export function newShardCounters(): ShardCounters {
  return {
    framesReceived: 0,
    payloadsReceived: 0,
    dispatchesDecoded: 0,
    dispatchesSkipped: 0,
    duplicatesDropped: 0,
    badFrames: 0,
    heartbeatsSent: 0,
    commandsSent: 0,
    eventsDropped: 0,
    connections: 0,
  };
}
