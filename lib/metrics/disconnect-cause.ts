import { CLOSE_CODE_POLICY, type ShardDisconnectedData } from '../gateway/index.js';

/**
 * The `code` label of `discord_gateway_reconnects_total`: the close code that ended the
 * connection, whoever sent it (`none` without a close frame). Codes Discord documents, and
 * 1000/1001, are kept; any other is `other`, so a gateway cannot grow the label set.
 */
export function disconnectCode({ code }: ShardDisconnectedData): string {
  if (code === null) return 'none';
  return code === 1000 || code === 1001 || CLOSE_CODE_POLICY.has(code) ? String(code) : 'other';
}
