import type { Redis } from 'ioredis';
import type { GatewayLogger } from '../gateway/logger.js';
import type { HeldShard, ShardLeases } from './shard-leases.js';

/** Options of {@link ShardStreamReader}. Times in ms. */
export interface ShardStreamReaderOptions {
  /** For the non-blocking commands; a connection of its own (`duplicate()`) is opened for the blocking read. */
  readonly redis: Redis;
  /** The leases that say which shard streams this consumer reads. */
  readonly leases: ShardLeases;
  readonly group: string;
  readonly consumerName: string;
  readonly leaseMs: number;
  readonly claimIdleMs: number;
  readonly batchSize: number;
  readonly logger: GatewayLogger;
  /** Runs one entry's handlers (`fields` `null`: the entry was trimmed); resolves once they finished. */
  readonly deliver: (shardId: number, entryId: string, fields: string[] | null) => Promise<void>;
  /** Creates the group again on every shard stream where it is missing (Redis lost it); logs it. */
  readonly recreateGroups: () => Promise<void>;
  /** A read failed for another reason than a missing group (Redis away): log it once. */
  readonly onReadError: (error: unknown) => void;
}

/** What XREADGROUP answers: per stream key, its entries as `[id, [field, value, ...]]`. */
export type StreamReply = [string, [string, string[]][]][];

/**
 * Reads the shard streams of a consumer's leases and runs their entries: per shard one after
 * another, each acknowledged (XACK) once its handlers finished; shards side by side, each in a
 * task of its own, so that a slow handler holds up its own shard only.
 *
 * One blocking XREADGROUP covers the held shards that no task is running. Each shard it gets
 * entries of goes to a task ({@link drain}) that runs them and, while batches come full, reads
 * on from that shard alone; when the task ends the shard goes back to the blocking read, which
 * is cut short (CLIENT UNBLOCK) to take it in. A shard taken over or reclaimed first runs what
 * was left pending ({@link recover}). A shard to hand over stops at an entry boundary.
 */
export class ShardStreamReader {
  /**
   * Sequences of dispatches that may have been lost with Redis's data (a restart without
   * persistence), counted from the gap between the last entry handled before and the first
   * one after, per shard and generation. An upper bound: the gap also spans dispatches of
   * types the gateway processes do not publish.
   */
  lostAfterRedisRestart = 0;
  private readonly redis: Redis;
  private readonly reader: Redis;
  private readonly leases: ShardLeases;
  private readonly group: string;
  private readonly consumerName: string;
  private readonly logger: GatewayLogger;
  private running = false;
  private readLoop: Promise<void> | null = null;
  /** Last entry id handled per shard. */
  private readonly lastHandled = new Map<number, string>();
  /** Shards whose group was created again (Redis lost it): the next entry is checked for a gap. */
  private readonly gapCheck = new Set<number>();
  /**
   * The shards whose entries are being run, each by a task of its own: one slow handler holds
   * up its own shard only. The blocking read leaves them out until their task ends.
   */
  private readonly busy = new Map<number, Promise<void>>();
  /** The blocking reader's connection id, for CLIENT UNBLOCK (`null`: not asked since it connected). */
  private readerId: number | null = null;
  /** The reader is in a blocking XREADGROUP. */
  private readerBlocked = false;
  /** Ends the read loop's wait while every held shard is busy. */
  private wakeIdle: (() => void) | null = null;

  constructor(private readonly options: ShardStreamReaderOptions) {
    this.redis = options.redis;
    this.leases = options.leases;
    this.group = options.group;
    this.consumerName = options.consumerName;
    this.logger = options.logger;
    this.reader = this.redis.duplicate({ maxRetriesPerRequest: null });
    this.reader.on('error', () => undefined);
    this.reader.on('ready', () => {
      this.readerId = null;
    });
  }

  /** Starts reading (the leases decide which shards). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.readLoop = this.read();
  }

  /** Stops reading; resolves once the batches in hand ran (their entries acknowledged). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.reader.disconnect();
    await this.readLoop;
    await Promise.all(this.busy.values());
  }

  /**
   * The blocking read over the held shards that no task is running. Each shard it gets entries
   * of goes to a task of its own ({@link drain}); a shard to recover does too ({@link recover}).
   */
  private async read(): Promise<void> {
    while (this.running) {
      try {
        await this.releaseDue();
        const idle: HeldShard[] = [];
        for (const shard of this.leases.held.values()) {
          if (this.busy.has(shard.id)) continue;
          if (shard.reclaim || shard.runOwnPending)
            this.startTask(shard, () => this.recover(shard));
          else idle.push(shard);
        }
        if (idle.length === 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => this.wakeIdle?.(), 100);
            this.wakeIdle = () => {
              clearTimeout(timer);
              this.wakeIdle = null;
              resolve();
            };
          });
          continue;
        }
        this.readerId ??= Number(await this.reader.client('ID'));
        let reply: StreamReply | null;
        this.readerBlocked = true;
        try {
          reply = (await this.reader.xreadgroup(
            'GROUP',
            this.group,
            this.consumerName,
            'COUNT',
            this.options.batchSize,
            'BLOCK',
            Math.max(50, Math.floor(this.options.leaseMs / 6)),
            'STREAMS',
            ...idle.map((s) => s.key),
            ...idle.map(() => '>'),
          )) as StreamReply | null;
        } finally {
          this.readerBlocked = false;
        }
        for (const [key, entries] of reply ?? []) {
          const shard = this.leases.held.get(Number(key.slice(key.lastIndexOf(':') + 1)));
          if (shard !== undefined && !this.busy.has(shard.id)) {
            this.startTask(shard, () => this.drain(shard, entries));
          }
        }
      } catch (error) {
        if (!this.running) return;
        await this.readFailed(error);
        await sleep(250);
      }
    }
  }

  /** Runs `work` as `shard`'s task; when it ends the shard goes back to the blocking read. */
  private startTask(shard: HeldShard, work: () => Promise<void>): void {
    const task = work()
      .catch((error: unknown) => (this.running ? this.readFailed(error) : undefined))
      .finally(() => {
        this.busy.delete(shard.id);
        this.wakeIdle?.();
        // The blocking read left this shard out: have it start again with the shard in it.
        if (this.readerBlocked && this.readerId !== null) {
          void this.redis.client('UNBLOCK', this.readerId).catch(() => undefined);
        }
      });
    this.busy.set(shard.id, task);
  }

  /**
   * Runs a batch the blocking read got, then, while batches come full, reads the shard on its
   * own (no need to wait for the other shards' batches).
   */
  private async drain(shard: HeldShard, entries: [string, string[]][]): Promise<void> {
    let batch = entries;
    for (;;) {
      await this.runShard(shard, batch);
      if (batch.length < this.options.batchSize || !this.running || !this.holds(shard)) return;
      batch = await this.readShard(shard, '>');
      if (batch.length === 0) return;
    }
  }

  /**
   * One batch of `shard`'s stream, without blocking: new entries (`after` `'>'`), or this
   * consumer's pending ones after the id `after`.
   */
  private async readShard(shard: HeldShard, after: string): Promise<[string, string[]][]> {
    const reply = (await this.redis.xreadgroup(
      'GROUP',
      this.group,
      this.consumerName,
      'COUNT',
      this.options.batchSize,
      'STREAMS',
      shard.key,
      after,
    )) as StreamReply | null;
    return reply?.[0]?.[1] ?? [];
  }

  /** A read failed: a group Redis lost (NOGROUP) is created again; anything else is logged once. */
  private async readFailed(error: unknown): Promise<void> {
    if (!isNoGroup(error)) {
      this.options.onReadError(error);
      return;
    }
    // The first entry read after it is checked for a gap: what Redis lost with its data.
    for (const id of this.leases.held.keys()) this.gapCheck.add(id);
    await this.options.recreateGroups();
  }

  /**
   * Runs, oldest first, the entries other consumers left pending for `claimIdleMs` (XAUTOCLAIM
   * hands them over), and once per lease this consumer's own pending entries (left by its
   * previous run under the same name).
   */
  private async recover(shard: HeldShard): Promise<void> {
    if (shard.reclaim) {
      shard.reclaim = false;
      let cursor = '0-0';
      do {
        const [next, claimed] = (await this.redis.xautoclaim(
          shard.key,
          this.group,
          this.consumerName,
          this.options.claimIdleMs,
          cursor,
          'COUNT',
          this.options.batchSize,
        )) as [string, [string, string[] | null][]];
        cursor = next;
        const live = claimed.filter((e): e is [string, string[]] => e[1] !== null);
        if (live.length > 0) {
          this.logger.log(
            `Consumer ${this.consumerName} reclaimed ${live.length} pending entr${live.length === 1 ? 'y' : 'ies'} of shard ${shard.id}`,
          );
          await this.runShard(shard, live);
        }
      } while (cursor !== '0-0' && this.running && this.holds(shard));
    }
    if (!shard.runOwnPending) return;
    shard.runOwnPending = false;
    let after = '0';
    while (this.running && this.holds(shard)) {
      const entries = await this.readShard(shard, after);
      if (entries.length === 0) return;
      await this.runShard(shard, entries);
      after = entries[entries.length - 1]![0];
    }
  }

  /** Whether `shard` is still this consumer's and not being handed over. */
  private holds(shard: HeldShard): boolean {
    return this.leases.held.get(shard.id) === shard && !shard.release;
  }

  /**
   * Runs `entries` of `shard` one after another, each acknowledged once handled. Stops at an
   * entry boundary when the shard is to be handed over (then hands it over) or was lost: what
   * is left stays pending for the next holder.
   */
  private async runShard(shard: HeldShard, entries: [string, string[]][]): Promise<void> {
    for (const [entryId, fields] of entries) {
      if (!this.holds(shard)) break;
      if (this.gapCheck.delete(shard.id)) this.checkGap(shard.id, entryId);
      this.lastHandled.set(shard.id, entryId);
      await this.options.deliver(shard.id, entryId, fields);
      void this.redis.xack(shard.key, this.group, entryId).catch(() => undefined);
    }
    if (shard.release) await this.leases.handOver(shard);
  }

  private checkGap(shardId: number, entryId: string): void {
    const last = this.lastHandled.get(shardId);
    if (last === undefined) return;
    const [lastGeneration, lastSequence] = last.split('-').map(Number) as [number, number];
    const [generation, sequence] = entryId.split('-').map(Number) as [number, number];
    const gap = generation === lastGeneration ? sequence - lastSequence - 1 : null;
    if (gap === 0) return;
    if (gap !== null && gap > 0) this.lostAfterRedisRestart += gap;
    this.logger.warn(
      gap === null
        ? `Shard ${shardId}: after Redis lost its data the stream goes on in a new session (entry ${entryId} after ${last}); what lay between is lost`
        : `Shard ${shardId}: Redis lost its data; sequences ${lastSequence + 1} to ${sequence - 1} ` +
            `(at most ${gap} dispatch(es)) were published but never handled by group ${this.group}`,
    );
  }

  /** Hands over the shards marked while none of their entries was running (a task hands its own over). */
  private async releaseDue(): Promise<void> {
    for (const shard of [...this.leases.held.values()]) {
      if (shard.release && !this.busy.has(shard.id)) await this.leases.handOver(shard);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether `error` is Redis's NOGROUP: the stream or its consumer group is missing. */
export function isNoGroup(error: unknown): boolean {
  return error instanceof Error && error.message.includes('NOGROUP');
}
