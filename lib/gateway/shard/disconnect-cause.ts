/**
 * Why a shard's connection ended: the one list of causes that `SHARD_DISCONNECTED`, the log
 * and metrics use. Each connection ends for exactly one of them.
 *
 * - `'server-close'`: the gateway sent a close frame (its code says why).
 * - `'connection-lost'`: the socket ended without a close frame (TCP drop, 1006), or never
 *   opened.
 * - `'zombie'`: nothing at all arrived between a heartbeat and the next one due (GW-HB-4).
 * - `'ack-timeout'`: frames kept arriving but no heartbeat ACK for `maxMissedAcks`
 *   heartbeats in a row, after the start-up backlog (GW-GT-7).
 * - `'reconnect-requested'`: op 7 RECONNECT.
 * - `'invalid-session'`: op 9 INVALID_SESSION.
 * - `'handshake-timeout'`: the socket, HELLO or READY/RESUMED did not come in time (GW-GT-10).
 * - `'bad-frame'`: a frame that could not be decoded or broke the protocol (or no decoder
 *   could be set up); the shard resumes.
 * - `'identify-refused'`: the identify queue refused (daily budget spent) or the IDENTIFY
 *   could not be built; the shard stops.
 * - `'internal-error'`: something threw while the shard handled its socket or a timer (a bug,
 *   logged); the shard resumes.
 * - `'user-close'`: `close()` was called.
 */
export const DISCONNECT_CAUSES = [
  'server-close',
  'connection-lost',
  'zombie',
  'ack-timeout',
  'reconnect-requested',
  'invalid-session',
  'handshake-timeout',
  'bad-frame',
  'identify-refused',
  'internal-error',
  'user-close',
] as const;

/** One of {@link DISCONNECT_CAUSES}. */
export type DisconnectCause = (typeof DISCONNECT_CAUSES)[number];
