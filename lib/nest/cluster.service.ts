import { Inject, Injectable } from '@nestjs/common';
import type { GatewayGuildMembersChunkDispatchData } from 'discord-api-types/v10';
import { Observable } from 'rxjs';
import {
  Cluster,
  type ClusterHealthOptions,
  type ClusterProgress,
  type EventType,
  type EventTypeName,
  type GatewayEvent,
  type GatewayHealthVerdict,
  type MemberRequestOptions,
  type MemberRequestResult,
  type Session,
  type ShardInfo,
  type GatewayEventSource,
} from '../gateway/index.js';
import { GATEWAY_CLUSTER } from './gateway.constants.js';

/** A gateway command: an opcode and its data (docs/protocol.md section 15). */
export interface GatewayCommand {
  readonly op: number;
  readonly d: unknown;
}

/**
 * The running cluster, for injection: event streams, commands, member requests, per-shard
 * info, and manual start/stop. The shards start by themselves in `onApplicationBootstrap`
 * unless `connectOnBootstrap` is `false`.
 *
 * In consumer mode (`GatewayModule.forConsumer`) no shard runs in the process; the same calls
 * go through the event source: `events$()` gives the events this consumer handles, `info()`
 * and `health()` read what the gateway processes report in Redis, `waitUntilReady()` resolves
 * once the consumer joined its group and every shard is reported Active, and the commands
 * (`command`, `commandForGuild`, `broadcast`, `requestGuildMembers`) travel to the process
 * that owns the shard. `shardIds` are the shards whose streams the consumer reads now.
 */
@Injectable()
export class ClusterService {
  /**
   * Startup progress (ready shards of total, ETA in ms, identify budget wait). Emits on every
   * change while subscribed.
   */
  readonly progress$: Observable<ClusterProgress>;

  private readonly source: GatewayEventSource;

  constructor(@Inject(GATEWAY_CLUSTER) source: Cluster | GatewayEventSource) {
    this.source = source;
    this.progress$ = new Observable<ClusterProgress>((subscriber) =>
      source.onProgress((progress) => subscriber.next(progress)),
    );
  }

  /**
   * The core Cluster of this process.
   * @throws Error in consumer mode, where no shard runs.
   */
  get cluster(): Cluster {
    if (this.source instanceof Cluster) return this.source;
    throw new Error(
      'No Cluster runs in consumer mode (GatewayModule.forConsumer); its shards run in the gateway processes',
    );
  }

  /** The shard ids this process runs, ascending. Known once the cluster is up. */
  get shardIds(): number[] {
    return this.source.shardIds;
  }

  /** The total shard count of the bot (all processes). Known once the cluster is up. */
  get shardCount(): number {
    return this.source.shardCount;
  }

  /**
   * Events of every shard, as they arrive. Naming types delivers only those and, while
   * subscribed, adds them to the decode filter (GW-ENV-3: a type nobody asked for is never
   * decoded); with no types, every event is delivered and the filter is off while subscribed.
   * Cold: each subscription is its own listener, removed on unsubscribe.
   */
  events$(): Observable<GatewayEvent>;
  events$<const T extends readonly [EventTypeName, ...EventTypeName[]]>(
    ...types: T
  ): Observable<GatewayEvent<Extract<EventType, T[number]>>>;
  events$(...types: EventTypeName[]): Observable<GatewayEvent> {
    // An EventTypeName is an EventType's string value, so the cast changes no value.
    const selected = types as EventType[];
    return new Observable<GatewayEvent>((subscriber) =>
      this.source.subscribe(selected.length === 0 ? 'all' : selected, (event) =>
        subscriber.next(event),
      ),
    );
  }

  /**
   * Sends a command on one shard: queued until the shard is identified, rate limited,
   * in order. Rejects with `UnknownShardError`, `CommandError`, `PayloadTooLargeError` or
   * `ShardClosedError`.
   */
  command(shardId: number, payload: GatewayCommand): Promise<void> {
    return this.source.command(shardId, payload);
  }

  /** Sends a command on the shard of `guildId` (`(guild_id >> 22) % shardCount`, GW-SH-3). */
  commandForGuild(guildId: string, payload: GatewayCommand): Promise<void> {
    return this.source.commandForGuild(guildId, payload);
  }

  /** Sends a command on every shard of this process. */
  broadcast(payload: GatewayCommand): Promise<void> {
    return this.source.broadcast(payload);
  }

  /** The shard that receives the events of `guildId`. */
  shardIdForGuild(guildId: string): number {
    return this.source.shardIdForGuild(guildId);
  }

  /**
   * Request Guild Members (op 8) as a stream of GUILD_MEMBERS_CHUNK data, completing after
   * the last chunk. Cold: each subscription sends its own request. Errors with
   * `MemberRequestRateLimitedError` (GW-RL-5) or `GatewayTimeoutError` (no chunk within
   * `timeoutMs`).
   */
  requestGuildMembers$(
    guildId: string,
    options: MemberRequestOptions = {},
  ): Observable<GatewayGuildMembersChunkDispatchData> {
    return new Observable<GatewayGuildMembersChunkDispatchData>((subscriber) =>
      this.source.requestGuildMembers(guildId, options).subscribe(subscriber),
    );
  }

  /** Request Guild Members (op 8), every chunk gathered. Rejects as `requestGuildMembers$` errors. */
  requestGuildMembers(
    guildId: string,
    options: MemberRequestOptions = {},
  ): Promise<MemberRequestResult> {
    return this.source.requestGuildMembers(guildId, options).all();
  }

  /**
   * The gateway's health as plain JSON, for probes without @nestjs/terminus: `status` (`up`,
   * `starting`, `degraded`, `down`), `ready` and `live` (what a readiness and a liveness probe
   * should answer), a `reason`, counts and the worst shards. See `Cluster.health`.
   */
  health(options?: ClusterHealthOptions): GatewayHealthVerdict {
    return this.source.health(options);
  }

  /** State, latency, session and counters of every shard. */
  info(): ShardInfo[] {
    return this.source.info();
  }

  /** Starts every shard (identify pacing applies); resolves once all are Active. */
  up(): Promise<void> {
    return this.source.up();
  }

  /** Closes every shard with 1000: the sessions end and the bot goes offline (GW-GT-2). */
  down(): Promise<void> {
    return this.source.down();
  }

  /** Closes every shard resumably and saves the sessions to the session store (GW-GT-2). */
  downResumable(): Promise<Map<number, Session>> {
    return this.source.downResumable();
  }

  /** Resolves once every shard is Active (CLUSTER_READY); settles once, see `Cluster.waitUntilReady`. */
  waitUntilReady(): Promise<void> {
    return this.source.waitUntilReady();
  }
}
