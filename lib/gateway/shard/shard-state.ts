/**
 * The states of one shard.
 *
 * `Disconnected -> Connecting -> Identifying | Resuming -> Active`, back to `Disconnected`
 * (then reconnecting, with backoff) after a resumable or reconnectable close;
 * `FatallyClosed` after 4004 or 4010-4014; `Closed` after the user closed the shard.
 */
export enum ShardState {
  Disconnected = 'DISCONNECTED',
  Connecting = 'CONNECTING',
  Identifying = 'IDENTIFYING',
  Resuming = 'RESUMING',
  Active = 'ACTIVE',
  FatallyClosed = 'FATALLY_CLOSED',
  Closed = 'CLOSED',
}
