import type {
  Clock,
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
