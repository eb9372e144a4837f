import { GatewayError, type GatewayErrorCode } from '../gateway/errors/errors.js';

/**
 * The commands a consumer sends to a gateway process, as entries of that process's command
 * stream: `id` (the consumer's request id), `reply` (the stream that gets the answers),
 * `kind`, `args` (JSON) and `expiresAt` (wall-clock ms; an older command is dropped unanswered).
 */
export type CommandKind = 'command' | 'commandForGuild' | 'broadcast' | 'requestGuildMembers';

/**
 * An answer, as an entry of the consumer's reply stream: `id` (the request's), `kind` and
 * `body` (JSON). `'accepted'` comes first, as soon as the gateway process read the command:
 * from then on the command waits in that process as it would in an in-process Cluster (behind
 * the send and presence limits, for as long as they need). `'chunk'` carries one
 * GUILD_MEMBERS_CHUNK; `'ok'` ends a request; `'error'` ends it with a {@link SerializedError}.
 */
export type ReplyKind = 'accepted' | 'ok' | 'error' | 'chunk';

/** An error as it crosses Redis. */
export interface SerializedError {
  readonly name: string;
  readonly code: string | null;
  readonly message: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      code: typeof code === 'string' ? code : null,
      message: error.message,
    };
  }
  return { name: 'Error', code: null, message: String(error) };
}

/**
 * An error a gateway process answered a consumer's command with. `code` is the original
 * error's (`UNKNOWN_SHARD`, `COMMAND_INVALID`, `SHARD_CLOSED`, ...), `remoteName` its class.
 */
export class RemoteCommandError extends GatewayError {
  constructor(
    readonly remoteName: string,
    code: string | null,
    message: string,
    /** The gateway process that answered. */
    readonly process: string,
  ) {
    super(
      (code ?? 'REMOTE_COMMAND_FAILED') as GatewayErrorCode,
      `${message} (in gateway process ${process})`,
    );
  }
}

/** No gateway process reported owning the shard within the command's timeout. */
export class ShardNotOwnedError extends GatewayError {
  constructor(
    readonly shardIds: readonly number[],
    readonly timeoutMs: number,
  ) {
    super(
      'SHARD_NOT_OWNED',
      `No gateway process reported owning shard(s) ${shardIds.join(', ')} within ${timeoutMs} ms`,
    );
  }
}
