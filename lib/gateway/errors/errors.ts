/**
 * Typed errors. Each has a stable `code` to match on; messages name the cause and never
 * contain the token or a value that could hold it.
 */
export type GatewayErrorCode =
  | 'CONFIG_INVALID'
  | 'COMMAND_INVALID'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNKNOWN_SHARD'
  | 'SHARD_FATALLY_CLOSED'
  | 'SHARD_CLOSED'
  | 'TIMEOUT'
  | 'DECODE_FAILED'
  | 'PROTOCOL_VIOLATION'
  | 'RESUME_URL_REFUSED'
  | 'IDENTIFY_BUDGET_EXHAUSTED'
  | 'MEMBER_REQUEST_RATE_LIMITED'
  | 'MEMBER_REQUEST_TIMEOUT'
  | 'ABORTED'
  | 'HTTP_FAILED'
  | 'SHARD_NOT_OWNED'
  | 'REMOTE_COMMAND_FAILED';

/** Base class of every error the library throws or reports. */
export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem found by config validation: the option's path and the rule it breaks. */
export interface ConfigIssue {
  /** Dotted option path, e.g. `shards.to` or `intents`. */
  readonly path: string;
  /** What the value must be, e.g. `must be an integer between 50 and 250`. */
  readonly rule: string;
}

/** A configuration broke one or more rules; `issues` lists every one (never the values). */
export class ConfigError extends GatewayError {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      'CONFIG_INVALID',
      `Invalid gateway configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((issue) => `  - ${issue.path}: ${issue.rule}`).join('\n'),
    );
  }
}

/** A send command has a bad shape (docs/protocol.md section 15); `issues` says what and why. */
export class CommandError extends GatewayError {
  constructor(
    readonly op: number,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(
      'COMMAND_INVALID',
      `Invalid gateway command (op ${op}): ` +
        issues.map((issue) => `${issue.path} ${issue.rule}`).join('; '),
    );
  }
}

/** An outgoing payload exceeds 4096 bytes (GW-ENV-4, GW-GT-15); it never reached the socket. */
export class PayloadTooLargeError extends GatewayError {
  constructor(
    readonly op: number,
    readonly size: number,
    readonly limit = 4096,
  ) {
    super(
      'PAYLOAD_TOO_LARGE',
      `Payload for op ${op} is ${size} bytes; the gateway accepts at most ${limit}`,
    );
  }
}

/** A command named a shard this cluster does not run. */
export class UnknownShardError extends GatewayError {
  constructor(
    readonly shardId: number,
    readonly knownShardIds: readonly number[],
  ) {
    super(
      'UNKNOWN_SHARD',
      `Shard ${shardId} is not run by this cluster (it runs ${describeIds(knownShardIds)})`,
    );
  }
}

/** The gateway closed with a code after which reconnecting cannot succeed (4004, 4010-4014; GW-GT-3). */
export class FatalCloseError extends GatewayError {
  constructor(
    readonly shardId: number,
    readonly closeCode: number,
    readonly reason: string,
    /** For 4014: the privileged intents that were requested (names). */
    readonly privilegedIntents: readonly string[] = [],
  ) {
    super(
      'SHARD_FATALLY_CLOSED',
      `Shard ${shardId} closed fatally with ${closeCode}: ${reason}` +
        (privilegedIntents.length > 0
          ? ` (privileged intents requested: ${privilegedIntents.join(', ')}; enable them in the Developer Portal or remove them)`
          : ''),
    );
  }
}

/** The shard was closed (by the user or fatally) while an operation waited on it. */
export class ShardClosedError extends GatewayError {
  constructor(
    readonly shardId: number,
    what = 'operation',
  ) {
    super('SHARD_CLOSED', `Shard ${shardId} was closed before the ${what} completed`);
  }
}

/** A guarded wait ran out (GW-GT-10). `phase` names what was awaited. */
export class GatewayTimeoutError extends GatewayError {
  constructor(
    readonly phase: string,
    readonly timeoutMs: number,
  ) {
    super('TIMEOUT', `Timed out after ${timeoutMs} ms waiting for ${phase}`);
  }
}

/** A frame from the server could not be decoded (bad JSON, bad UTF-8, corrupt zlib, over a cap). */
export class DecodeError extends GatewayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DECODE_FAILED', message, options);
  }
}

/** The server sent something the protocol does not allow (e.g. READY without session_id). */
export class ProtocolError extends GatewayError {
  constructor(message: string) {
    super('PROTOCOL_VIOLATION', message);
  }
}

/**
 * A resume URL the token may not be sent to (README, Security): from READY's
 * `resume_gateway_url` or from a stored session. It is not used: the RESUME goes to the
 * gateway URL instead. `rule` says what the URL breaks; the URL itself is not repeated.
 */
export class ResumeUrlRefusedError extends GatewayError {
  constructor(
    readonly source: 'ready' | 'session',
    readonly rule: string,
  ) {
    super(
      'RESUME_URL_REFUSED',
      `${source === 'ready' ? 'READY resume_gateway_url' : "The stored session's resume URL"} ` +
        `${rule}; RESUME will use the gateway URL`,
    );
  }
}

/** Starting would need more IDENTIFYs than the daily budget has left (GW-ID-5, GW-RL-3). */
export class IdentifyBudgetError extends GatewayError {
  constructor(
    readonly needed: number,
    readonly remaining: number,
    /** When the budget resets, as a clock reading in ms. */
    readonly resetAt: number,
  ) {
    super(
      'IDENTIFY_BUDGET_EXHAUSTED',
      `Identify budget exhausted: ${needed} shard(s) must identify but only ${remaining} ` +
        `session start(s) remain; the budget resets at ${new Date(resetAt).toISOString()}`,
    );
  }
}

/** A Request Guild Members was answered by RATE_LIMITED (GW-RL-5). `retryAfter` is in seconds. */
export class MemberRequestRateLimitedError extends GatewayError {
  constructor(
    readonly guildId: string,
    readonly retryAfter: number,
    readonly nonce?: string,
  ) {
    super(
      'MEMBER_REQUEST_RATE_LIMITED',
      `Request Guild Members for guild ${guildId} was rate limited; retry after ${retryAfter} s`,
    );
  }
}

/** An operation was aborted through its AbortSignal, or its owner shut down. */
export class AbortedError extends GatewayError {
  constructor(what = 'operation') {
    super('ABORTED', `The ${what} was aborted`);
  }
}

/** An HTTP request to Discord's API failed (e.g. GET /gateway/bot). Never includes headers. */
export class HttpError extends GatewayError {
  constructor(
    readonly status: number,
    readonly route: string,
    message?: string,
  ) {
    super('HTTP_FAILED', message ?? `GET ${route} failed with HTTP ${status}`);
  }
}

function describeIds(ids: readonly number[]): string {
  if (ids.length === 0) return 'no shards';
  if (ids.length <= 8) return `shards ${ids.join(', ')}`;
  return `${ids.length} shards, ${ids[0]}..${ids[ids.length - 1]}`;
}

/**
 * A thrown or rejected value as text for a log line, without ever throwing itself: an Error's
 * `stack` (with `stack`, when it has one) or `message`, anything else through `String`. A value
 * that cannot become a string (a null-prototype object, a Proxy whose traps throw) reads as
 * `[unprintable <typeof>]`, so a handler's odd rejection can never break the error path.
 */
export function describeError(error: unknown, stack = false): string {
  try {
    if (error instanceof Error) return (stack ? error.stack : undefined) ?? error.message;
    return String(error);
  } catch {
    return `[unprintable ${typeof error}]`;
  }
}
