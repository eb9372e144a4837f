export { Cluster, type ClusterDeps, type ClusterProgress, type CommandPayload } from './cluster.js';
export {
  MemberRequest,
  type MemberRequestObserver,
  type MemberRequestOptions,
  type MemberRequestResult,
} from './member-request.js';
export { shardIdForGuild } from './shard-routing.js';
export type { EventSink } from './event-sink.js';
export type { GatewayEventSource } from './event-source.js';
