import type { Redis } from 'ioredis';
import type { CommandPayload } from '../gateway/cluster/cluster-shards.js';
import type { Cluster } from '../gateway/cluster/cluster.js';
import type { MemberRequestOptions } from '../gateway/cluster/member-request.js';
import { describeError } from '../gateway/errors/errors.js';
import type { GatewayLogger } from '../gateway/logger.js';
import { serializeError, type CommandKind, type ReplyKind } from './command-protocol.js';

/** How long an answer stream is kept after its last answer: the consumer may be restarting. */
const REPLY_TTL_MS = 300_000;
const REPLY_MAX_LEN = 10_000;
const BLOCK_MS = 1_000;

interface CommandServerDeps {
  readonly redis: Redis;
  /** The command stream of this process. */
  readonly key: string;
  readonly cluster: Cluster;
  readonly logger: GatewayLogger;
}

/**
 * Runs the commands consumers send to this gateway process (see `RedisEventConsumer`): reads
 * the process's command stream on a connection of its own (blocking reads), answers
 * `'accepted'` on the sender's reply stream, runs each command on the Cluster in stream order,
 * answers its outcome and deletes the command.
 * Commands left from before a restart under the same process name are run, unless expired.
 */
export class CommandServer {
  private readonly reader: Redis;
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly deps: CommandServerDeps) {
    this.reader = deps.redis.duplicate({ maxRetriesPerRequest: null });
    this.reader.on('error', () => undefined);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.read();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.reader.disconnect();
    await this.loop;
  }

  private async read(): Promise<void> {
    let last = '0';
    let failing = false;
    while (this.running) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await this.reader.xread(
          'COUNT',
          100,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.deps.key,
          last,
        )) as [string, [string, string[]][]][] | null;
        failing = false;
      } catch (error) {
        if (!this.running) return;
        if (!failing) {
          failing = true;
          this.deps.logger.warn(
            `Cannot read consumers' commands from Redis: ${describeError(error)}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const [entryId, fields] of entries) {
          last = entryId;
          this.run(fields);
        }
        void this.deps.redis
          .xdel(this.deps.key, ...entries.map(([entryId]) => entryId))
          .catch(() => undefined);
      }
    }
  }

  private run(fields: string[]): void {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
    const { id, reply } = f;
    if (id === undefined || reply === undefined) return;
    if (Number(f.expiresAt) < Date.now()) {
      this.deps.logger.debug(`Dropped an expired ${f.kind} command from ${reply}`);
      return;
    }
    const answer = (kind: ReplyKind, body: unknown): void => {
      void this.deps.redis
        .multi()
        .xadd(
          reply,
          'MAXLEN',
          '~',
          REPLY_MAX_LEN,
          '*',
          'id',
          id,
          'kind',
          kind,
          'body',
          JSON.stringify(body ?? null),
        )
        .pexpire(reply, REPLY_TTL_MS)
        .exec()
        .catch((error: unknown) =>
          this.deps.logger.warn(`Cannot answer a ${f.kind} command: ${describeError(error)}`),
        );
    };
    answer('accepted', null);
    let args: Record<string, unknown>;
    try {
      args = JSON.parse(f.args ?? '{}') as Record<string, unknown>;
    } catch (error) {
      answer('error', serializeError(error));
      return;
    }
    const cluster = this.deps.cluster;
    const kind = f.kind as CommandKind;
    if (kind === 'requestGuildMembers') {
      try {
        const request = cluster.requestGuildMembers(
          args.guildId as string,
          (args.options ?? {}) as MemberRequestOptions,
        );
        request.subscribe({
          next: (chunk) => answer('chunk', chunk),
          error: (error) => answer('error', serializeError(error)),
          complete: () => answer('ok', null),
        });
      } catch (error) {
        answer('error', serializeError(error));
      }
      return;
    }
    let result: Promise<void>;
    try {
      const payload = args.payload as CommandPayload;
      result =
        kind === 'command'
          ? cluster.command(args.shardId as number, payload)
          : kind === 'commandForGuild'
            ? cluster.commandForGuild(args.guildId as string, payload)
            : kind === 'broadcast'
              ? cluster.broadcast(payload)
              : Promise.reject(new TypeError(`unknown command kind ${String(kind)}`));
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      () => answer('ok', null),
      (error: unknown) => answer('error', serializeError(error)),
    );
  }
}
