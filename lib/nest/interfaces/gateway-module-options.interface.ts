import type {
  EventSink,
  Clock,
  Cluster,
  ClusterOptions,
  IdentifyQueue,
  LogLevel,
  SessionStore,
} from '../../gateway/index.js';

/**
 * What the module does with the shards when the application shuts down
 * (`beforeApplicationShutdown`, so call `app.enableShutdownHooks()` for signals):
 *
 * - `'resumable'`: close with a non-1000 code and save every session to the `sessionStore`,
 *   so the next start RESUMEs (GW-GT-2); the bot stays online until Discord times it out.
 * - `'end'`: close with 1000; sessions end and the bot goes offline at once (GW-GT-2).
 * - `'auto'` (default): `'resumable'` when a persistent `sessionStore` is configured (any store
 *   but the in-memory one), else `'end'`.
 */
export type GatewayShutdownPolicy = 'auto' | 'resumable' | 'end';

/** Options that only the Nest module reads; they never reach the core. */
export interface GatewayNestOptions {
  /** Shutdown policy. Default `'auto'`. See {@link GatewayShutdownPolicy}. */
  shutdown?: GatewayShutdownPolicy;
  /**
   * Start the shards in `onApplicationBootstrap`, after every handler is bound. Default
   * `true`. With `false`, call `ClusterService.up()` yourself.
   */
  connectOnBootstrap?: boolean;
  /**
   * What the module and its shards log, through Nest's `Logger` (context `DiscordGateway`),
   * from quietest: `'error'`, `'warn'`, `'log'` (default: milestones such as READY, RESUMED,
   * cluster ready and shutdown, plus every problem), `'debug'` (adds protocol traces and
   * handler bindings, several lines per shard at start-up). Nest's own logger levels filter
   * on top of this.
   */
  logLevel?: LogLevel;
  /**
   * Measures the gateway and the handlers, e.g. `new GatewayMetrics({ registry })` from
   * `nestjs-discord-gateway/metrics`. Default: none (nothing is measured, nothing is loaded).
   */
  metrics?: GatewayMetricsBinding;
}

/**
 * What the `metrics` option takes: a `GatewayMetrics` of `nestjs-discord-gateway/metrics`
 * (Prometheus, prom-client), or any object of this shape.
 */
export interface GatewayMetricsBinding {
  /** Called once with the module's cluster, before it starts; returns the function that stops measuring. */
  bind(cluster: Cluster): () => void;
  /**
   * Called once per `@OnGatewayEvent` handler as it is bound (`handler` is `Class.method`);
   * the function it returns is called after every call of that handler with its run time in
   * seconds (until its promise settled for an async handler) and whether it threw or rejected
   * (a guard's refusal is no failure). It runs on every event: keep it cheap; it must not throw.
   */
  handlerTimer(handler: string): (seconds: number, failed: boolean) => void;
}

/** Collaborators the core takes besides its options. All optional. */
export interface GatewayDependencies {
  /**
   * Where sessions are kept between restarts (e.g. `FileSessionStore`). Default: in memory.
   * A persistent store makes the `'auto'` shutdown policy resumable.
   */
  sessionStore?: SessionStore;
  /** Paces IDENTIFY across shards and processes. Default: the in-process queue. */
  queue?: IdentifyQueue;
  /** The time source of heartbeats, rate limits and timeouts. Default: the system clock. */
  clock?: Clock;
  /**
   * Hands every event on to consumer processes (`RedisEventPublisher` of
   * `nestjs-discord-gateway/redis`). Default none.
   */
  eventSink?: EventSink;
}

/**
 * Options of `GatewayModule.forRoot()` / `forRootAsync()`: the core's `ClusterOptions`
 * (token, intents, shard scheme, URLs, compression, timeouts, event types, ...; validated at
 * startup, one `ConfigError` lists every problem) plus {@link GatewayNestOptions} and
 * {@link GatewayDependencies}.
 *
 * When `eventTypes` is left out, the module decodes only the dispatches some handler or
 * `ClusterService.events$()` subscriber asks for.
 */
export type GatewayModuleOptions = ClusterOptions & GatewayNestOptions & GatewayDependencies;
