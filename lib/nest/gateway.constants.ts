/** Metadata key of `@OnGatewayEvent`: the event types a method handles. */
export const GATEWAY_EVENT_METADATA = 'discord-gateway:on-event';

/** Injection token of the core `Cluster` that `ClusterService` and `ShardService` wrap. */
export const GATEWAY_CLUSTER = Symbol('DISCORD_GATEWAY_CLUSTER');

/** What `host.getType()` returns inside guards, interceptors, pipes and filters of a handler. */
export const GATEWAY_CONTEXT_TYPE = 'discord-gateway';

/** Context of every log line the module writes (Nest `Logger`). */
export const GATEWAY_LOGGER_CONTEXT = 'DiscordGateway';

/** The catch-all event name: the handler receives every event and the decode filter is off. */
export const ANY_GATEWAY_EVENT = '*';

/** Injection token of the validated, split module options (`ResolvedGatewayOptions`). */
export const GATEWAY_RESOLVED_OPTIONS = Symbol('DISCORD_GATEWAY_RESOLVED_OPTIONS');

/**
 * Injection token of the module's `GatewayLogger`: a Nest `Logger` in context
 * `DiscordGateway`, filtered to the `logLevel` option. The core and the module both write
 * through it.
 */
export const GATEWAY_LOGGER = Symbol('DISCORD_GATEWAY_LOGGER');
