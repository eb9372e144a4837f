import {
  CLOSE_CODE_POLICY,
  type DisconnectCause,
  type ShardDisconnectedData,
} from '../gateway/index.js';

/**
 * The `cause` label of `discord_gateway_reconnects_total`, read from what SHARD_DISCONNECTED
 * reports (its reason and close code), named like the shard's own list of disconnect causes:
 *
 * - `reconnect-requested`: op 7 RECONNECT;
 * - `invalid-session`: op 9 INVALID_SESSION;
 * - `zombie`: no heartbeat ACK and no frame between two heartbeats;
 * - `handshake-timeout`: the socket, HELLO or READY/RESUMED did not come in time;
 * - `connection-lost`: the connection ended without a close frame;
 * - `server-close`: a close frame ended it (the shard's own reconnect after a bad frame, with
 *   4000, cannot be told apart from SHARD_DISCONNECTED and lands here too).
 */
export function disconnectCause({ code, reason }: ShardDisconnectedData): DisconnectCause {
  if (reason.startsWith('op 7 ')) return 'reconnect-requested';
  if (reason.startsWith('op 9 ')) return 'invalid-session';
  if (code !== null) return 'server-close';
  if (reason.startsWith('zombie ')) return 'zombie';
  if (reason.startsWith('Timed out ')) return 'handshake-timeout';
  return 'connection-lost';
}

/**
 * The `code` label of `discord_gateway_reconnects_total`: the close code that ended the
 * connection, whoever sent it (`none` without a close frame). Codes Discord documents, and
 * 1000/1001, are kept; any other is `other`, so a gateway cannot grow the label set.
 */
export function disconnectCode({ code }: ShardDisconnectedData): string {
  if (code === null) return 'none';
  return code === 1000 || code === 1001 || CLOSE_CODE_POLICY.has(code) ? String(code) : 'other';
}
