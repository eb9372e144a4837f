import { GatewayCloseCodes } from 'discord-api-types/v10';

/**
 * What a shard does after its connection closed:
 * - `fatal`: stop for good (state FatallyClosed), reconnecting cannot succeed (GW-GT-3);
 * - `resume`: reconnect and RESUME when a session exists, else IDENTIFY (GW-RS-5);
 * - `identify`: drop the session and reconnect with a fresh IDENTIFY on the base URL.
 */
export type CloseAction = 'fatal' | 'resume' | 'identify';

/** One row of the close-code policy table. */
export interface CloseCodePolicy {
  readonly action: CloseAction;
  /** Why, in words a log reader understands (never contains a value from the frame). */
  readonly reason: string;
}

/**
 * The close-code policy as data (docs/protocol.md section 10, GW-CL-1..3, GW-GT-3). Codes not in
 * the table (including 1000/1001 sent by the server, 1006 and a missing close frame) resume.
 */
export const CLOSE_CODE_POLICY: ReadonlyMap<number, CloseCodePolicy> = new Map<
  number,
  CloseCodePolicy
>([
  [GatewayCloseCodes.UnknownError, { action: 'resume', reason: 'unknown error' }],
  [
    GatewayCloseCodes.UnknownOpcode,
    { action: 'resume', reason: 'unknown opcode or invalid payload sent (client bug)' },
  ],
  [
    GatewayCloseCodes.DecodeError,
    { action: 'resume', reason: 'the gateway could not decode a payload we sent (client bug)' },
  ],
  [
    GatewayCloseCodes.NotAuthenticated,
    { action: 'resume', reason: 'payload sent before identifying (client bug)' },
  ],
  [
    GatewayCloseCodes.AuthenticationFailed,
    { action: 'fatal', reason: 'authentication failed: the token is invalid' },
  ],
  [
    GatewayCloseCodes.AlreadyAuthenticated,
    { action: 'resume', reason: 'identified twice on one connection (client bug)' },
  ],
  [GatewayCloseCodes.InvalidSeq, { action: 'identify', reason: 'invalid sequence on resume' }],
  [
    GatewayCloseCodes.RateLimited,
    { action: 'resume', reason: 'rate limited: more than 120 payloads per 60 s (client bug)' },
  ],
  [GatewayCloseCodes.SessionTimedOut, { action: 'identify', reason: 'session timed out' }],
  [
    GatewayCloseCodes.InvalidShard,
    { action: 'fatal', reason: 'invalid shard: the shard id or shard count is not accepted' },
  ],
  [
    GatewayCloseCodes.ShardingRequired,
    { action: 'fatal', reason: 'sharding required: too many guilds for this shard count' },
  ],
  [
    GatewayCloseCodes.InvalidAPIVersion,
    { action: 'fatal', reason: 'invalid API version requested' },
  ],
  [
    GatewayCloseCodes.InvalidIntents,
    { action: 'fatal', reason: 'invalid intents: the bitfield contains an unknown bit' },
  ],
  [
    GatewayCloseCodes.DisallowedIntents,
    {
      action: 'fatal',
      reason: 'disallowed intents: a privileged intent is not enabled or approved',
    },
  ],
]);

const NO_CLOSE_FRAME: CloseCodePolicy = {
  action: 'resume',
  reason: 'connection dropped without a close frame',
};
const UNKNOWN_CODE: CloseCodePolicy = { action: 'resume', reason: 'unrecognised close code' };
/** 1000/1001 from the server end no session of the client's (GW-CL-1): it resumes. */
const SERVER_CLOSED: CloseCodePolicy = {
  action: 'resume',
  reason: 'closed normally by the gateway (1000/1001)',
};

/**
 * The policy for a close `code`; `null` (or 1005/1006: no close frame, GW-CL-3), 1000/1001
 * from the server and unknown codes (GW-CL-2) resume.
 */
export function closeCodePolicy(code: number | null): CloseCodePolicy {
  if (code === null || code === 1005 || code === 1006) return NO_CLOSE_FRAME;
  if (code === 1000 || code === 1001) return SERVER_CLOSED;
  return CLOSE_CODE_POLICY.get(code) ?? UNKNOWN_CODE;
}
