import type { EventType } from '../events/event-type.js';
import type { EventTypeFlags } from '../events/event-type-flags.js';
import type { GatewayEvent } from '../events/gateway-event.js';
import type { ClusterHealthOptions, GatewayHealthVerdict } from '../health/health-verdict.js';
import type { Session } from '../session/session.js';
import type { ShardInfo } from '../shard/shard-info.js';
import type { CommandPayload } from './cluster-shards.js';
import type { MemberRequest, MemberRequestOptions } from './member-request.js';
import type { ClusterProgress } from './progress.js';

/**
 * What the Nest module needs of whatever delivers events: a `Cluster` in a gateway process, or
 * a consumer of events published by gateway processes (`RedisEventConsumer` of
 * `nestjs-discord-gateway/redis`) in a consumer process (`GatewayModule.forConsumer`).
 */
export interface GatewayEventSource {
  /** The types the handlers take; set by the module. */
  eventTypes: EventTypeFlags;
  readonly shardIds: number[];
  readonly shardCount: number;
  /** A listener's promise (an async handler) is awaited before a consumer acknowledges the event. */
  addListener(listener: (event: GatewayEvent) => unknown): () => void;
  subscribe(
    types: readonly EventType[] | 'all',
    listener: (event: GatewayEvent) => void,
  ): () => void;
  onProgress(listener: (progress: ClusterProgress) => void): () => void;
  shardIdForGuild(guildId: string): number;
  info(): ShardInfo[];
  health(options?: ClusterHealthOptions): GatewayHealthVerdict;
  waitUntilReady(): Promise<void>;
  up(): Promise<void>;
  down(): Promise<void>;
  downResumable(): Promise<Map<number, Session>>;
  command(shardId: number, payload: CommandPayload): Promise<void>;
  commandForGuild(guildId: string, payload: CommandPayload): Promise<void>;
  broadcast(payload: CommandPayload): Promise<void>;
  requestGuildMembers(guildId: string, options?: MemberRequestOptions): MemberRequest;
}
