import type {
  GatewayGuildMembersChunkDispatchData,
  GatewayRateLimitedDispatchData,
} from 'discord-api-types/v10';
import { EventType } from '../events/event-type.js';
import type {
  GatewayEvent,
  ShardGuildsReadyData,
  ShardInvalidSessionData,
} from '../events/gateway-event.js';
import type { MemberRequestRegistry } from './member-request.js';
import type { ClusterReadiness } from './readiness.js';

/** The event types the cluster acts on itself before routing them (see {@link OwnEvents}). */
export const CLUSTER_HANDLED: ReadonlySet<string> = new Set<string>([
  EventType.GuildMembersChunk,
  EventType.RateLimited,
  EventType.ShardResumed,
  EventType.ShardReady,
  EventType.ShardInvalidSession,
  EventType.ShardGuildsReady,
]);

/**
 * What the cluster does with an event of {@link CLUSTER_HANDLED} before its listeners see it:
 * member-request answers, readiness, and the end of a stored session's use (its shard resumed,
 * identified, or got op 9 `d: false`).
 */
export class OwnEvents {
  constructor(
    private readonly memberRequests: MemberRequestRegistry,
    private readonly readiness: ClusterReadiness,
    private readonly consumeStoredSession: (shardId: number) => void,
  ) {}

  handle(event: GatewayEvent): void {
    switch (event.type) {
      case EventType.GuildMembersChunk:
        this.memberRequests.onChunk(event.data as GatewayGuildMembersChunkDispatchData);
        break;
      case EventType.RateLimited:
        this.memberRequests.onRateLimited(
          event.shardId,
          event.data as GatewayRateLimitedDispatchData,
        );
        break;
      case EventType.ShardResumed:
        this.readiness.onShardResumed(event.shardId);
        this.consumeStoredSession(event.shardId);
        break;
      case EventType.ShardReady:
        this.consumeStoredSession(event.shardId);
        break;
      case EventType.ShardInvalidSession:
        if (!(event.data as ShardInvalidSessionData).resumable)
          this.consumeStoredSession(event.shardId);
        break;
      case EventType.ShardGuildsReady:
        this.readiness.onShardGuildsReady(event.shardId, event.data as ShardGuildsReadyData);
        break;
    }
  }
}
