import {
  ConfigError,
  isLogLevel,
  MemorySessionStore,
  normalizeClusterOptions,
  type ClusterConfig,
  type ClusterOptions,
  type ConfigIssue,
  type LogLevel,
} from '../gateway/index.js';
import { HeldToken } from './held-token.js';
import {
  RULE_BOOLEAN,
  RULE_CLOCK,
  RULE_EVENT_SINK,
  RULE_LOG_LEVEL,
  RULE_METRICS,
  RULE_QUEUE,
  RULE_SESSION_STORE,
  RULE_SHUTDOWN,
} from './gateway.messages.js';
import type {
  GatewayDependencies,
  GatewayMetricsBinding,
  GatewayModuleOptions,
  GatewayNestOptions,
} from './interfaces/gateway-module-options.interface.js';

/** Module options split by who reads them, validated, defaults filled. */
export interface ResolvedGatewayOptions {
  /**
   * What the core `Cluster` takes: the options without the Nest-only keys and collaborators,
   * the token held as a `Token` (so inspecting the module, its providers or these options never
   * shows it).
   */
  readonly clusterOptions: ClusterOptions;
  /** The core's normalized view of them (intents as a bitfield, ...). */
  readonly config: ClusterConfig;
  readonly dependencies: GatewayDependencies;
  readonly shutdown: 'resumable' | 'end';
  readonly connectOnBootstrap: boolean;
  readonly logLevel: LogLevel;
  /** The `metrics` option, or `null` without it. */
  readonly metrics: GatewayMetricsBinding | null;
  /** Whether `eventTypes` was given; if not, the module computes it from the handlers. */
  readonly explicitEventTypes: boolean;
}

/** The resolved options of consumer mode (`GatewayModule.forConsumer`): no shard runs here. */
export interface ResolvedConsumerOptions {
  readonly logLevel: LogLevel;
  readonly metrics: GatewayMetricsBinding | null;
  readonly explicitEventTypes: false;
}

const SHUTDOWN_POLICIES: ReadonlySet<unknown> = new Set(['auto', 'resumable', 'end']);

/**
 * Splits and validates the module options: the core's `normalizeClusterOptions` checks its
 * part, this checks the Nest-only keys, and one `ConfigError` lists every problem of both.
 *
 * @throws ConfigError (path and rule of each problem, never a value).
 */
export function resolveGatewayOptions(options: GatewayModuleOptions): ResolvedGatewayOptions {
  const {
    shutdown,
    connectOnBootstrap,
    logLevel,
    metrics,
    sessionStore,
    queue,
    clock,
    eventSink,
    ...rest
  } = (options ?? {}) as GatewayModuleOptions & GatewayNestOptions;
  const clusterOptions = { ...rest, token: HeldToken.release(rest.token) } as ClusterOptions;
  const issues: ConfigIssue[] = [];
  let config: ClusterConfig | undefined;
  try {
    config = normalizeClusterOptions(clusterOptions);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
  }
  if (shutdown !== undefined && !SHUTDOWN_POLICIES.has(shutdown)) {
    issues.push({ path: 'shutdown', rule: RULE_SHUTDOWN });
  }
  if (connectOnBootstrap !== undefined && typeof connectOnBootstrap !== 'boolean') {
    issues.push({ path: 'connectOnBootstrap', rule: RULE_BOOLEAN });
  }
  if (logLevel !== undefined && !isLogLevel(logLevel)) {
    issues.push({ path: 'logLevel', rule: RULE_LOG_LEVEL });
  }
  if (metrics !== undefined && !hasMethods(metrics, 'bind', 'handlerTimer')) {
    issues.push({ path: 'metrics', rule: RULE_METRICS });
  }
  if (sessionStore !== undefined && !hasMethods(sessionStore, 'load', 'save', 'delete')) {
    issues.push({ path: 'sessionStore', rule: RULE_SESSION_STORE });
  }
  if (queue !== undefined && !hasMethods(queue, 'enqueue')) {
    issues.push({ path: 'queue', rule: RULE_QUEUE });
  }
  if (clock !== undefined && !hasMethods(clock, 'now', 'setTimeout', 'clearTimeout')) {
    issues.push({ path: 'clock', rule: RULE_CLOCK });
  }
  if (
    eventSink !== undefined &&
    !hasMethods(eventSink, 'attach', 'publish', 'sessionToSave', 'detach')
  ) {
    issues.push({ path: 'eventSink', rule: RULE_EVENT_SINK });
  }
  if (issues.length > 0 || config === undefined) throw new ConfigError(issues);

  const persistentStore =
    sessionStore !== undefined && !(sessionStore instanceof MemorySessionStore);
  return {
    clusterOptions: { ...clusterOptions, token: config.token },
    config,
    dependencies: { sessionStore, queue, clock, eventSink },
    shutdown:
      shutdown === 'resumable' || (shutdown !== 'end' && persistentStore) ? 'resumable' : 'end',
    connectOnBootstrap: connectOnBootstrap ?? true,
    logLevel: logLevel ?? 'log',
    metrics: metrics ?? null,
    explicitEventTypes: clusterOptions.eventTypes !== undefined,
  };
}

function hasMethods(value: unknown, ...names: string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  );
}
