import { register as globalRegistry, type Registry } from 'prom-client';
import {
  ConfigError,
  EventType,
  ShardState,
  type Cluster,
  type GatewayEvent,
  type ShardDisconnectedData,
  type ShardObserver,
  type ShardStateChangedData,
} from '../gateway/index.js';
import { disconnectCode } from './disconnect-cause.js';
import { GatewaySeries, type ScrapedGauge, type ScrapeSource } from './gateway-series.js';
import type { HandlerRecorder } from './handler-metrics.js';

/** Options of {@link GatewayMetrics}. */
export interface GatewayMetricsOptions {
  /**
   * Where the series are registered. Default: prom-client's global `register`, the one
   * `@willsoto/nestjs-prometheus` serves on `/metrics`.
   */
  readonly registry?: Registry;
  /**
   * The value of a `bot` label on every series, for an app that runs several bots: give each
   * bot's `GatewayMetrics` its name, on the same registry. Either every `GatewayMetrics` of a
   * registry names its bot, or none does (then the series carry no `bot` label).
   */
  readonly bot?: string;
}

/** The lifecycle events the metrics count; none is a dispatch, so the decode filter is unchanged. */
const LIFECYCLE = [
  EventType.ShardConnected,
  EventType.ShardDisconnected,
  EventType.ShardStateChanged,
] as const;
/** Distinct dispatch names counted apart; beyond, a gateway sending made-up names shares one. */
const MAX_DISPATCH_NAMES = 256;
const OVERFLOW_NAME = EventType.UnknownEvent;
const ALL_STATES = Object.values(ShardState);

const seriesByRegistry = new WeakMap<Registry, GatewaySeries>();

/**
 * Prometheus metrics of one bot's gateway (prom-client 15), named `discord_gateway_*`: see the
 * README's metrics section for every series, its labels and why per-shard labels are on
 * gauges only. Nothing is measured until {@link bind} attaches a cluster (the Nest module
 * does it when this object is its `metrics` option).
 *
 * The receive path's counts (bytes, dispatches by type) are plain numbers added up per
 * message and moved into the counters when the registry is scraped; per-shard gauges are
 * read from the cluster at scrape time.
 *
 * @example
 * const metrics = new GatewayMetrics({ registry });
 * metrics.bind(cluster);
 * // later: await registry.metrics()
 */
export class GatewayMetrics {
  private readonly series: GatewaySeries;
  private readonly labels: Readonly<Record<string, string>>;

  /**
   * @throws ConfigError when `bot` is an empty string, or when the registry already holds
   *   the series with a different choice of the `bot` label, or a foreign metric of one of
   *   their names.
   */
  constructor(options: GatewayMetricsOptions = {}) {
    const registry = options.registry ?? globalRegistry;
    const bot = options.bot;
    if (bot !== undefined && (typeof bot !== 'string' || bot === '')) {
      throw new ConfigError([{ path: 'bot', rule: 'must be a non-empty string' }]);
    }
    let series = seriesByRegistry.get(registry);
    if (series === undefined || !series.registered) {
      try {
        series = new GatewaySeries(registry, bot !== undefined);
      } catch (error) {
        throw new ConfigError([
          {
            path: 'registry',
            rule: `already holds a metric named like a discord_gateway_* series (${(error as Error).message})`,
          },
        ]);
      }
      seriesByRegistry.set(registry, series);
    } else if (series.botLabel !== (bot !== undefined)) {
      throw new ConfigError([
        {
          path: 'bot',
          rule: series.botLabel
            ? 'must be set: another GatewayMetrics on this registry names its bot'
            : 'must be left out: another GatewayMetrics on this registry has no bot label',
        },
      ]);
    }
    this.series = series;
    this.labels = bot === undefined ? {} : { bot };
  }

  /**
   * Starts measuring `cluster` (before `up()`, to see its start): its lifecycle events, its
   * shards' receive path, and its state at each scrape. Returns the function that stops it;
   * the counters keep their values, the cluster's per-shard gauges go away.
   */
  bind(cluster: Cluster): () => void {
    const binding = new ClusterBinding(cluster, this.series, this.labels);
    this.series.sources.add(binding);
    const unsubscribe = cluster.subscribe(LIFECYCLE, (event) => binding.onEvent(event));
    const unobserve = cluster.observe(binding);
    let bound = true;
    return () => {
      if (!bound) return;
      bound = false;
      unobserve();
      unsubscribe();
      binding.flush(this.series);
      this.series.sources.delete(binding);
    };
  }

  /**
   * The recorder of one gateway event handler (`handler`: `Class.method`), which the Nest
   * module asks for when it binds each `@OnGatewayEvent` method and calls after every call of
   * it: its run time in seconds (until its promise settled for an async one), and whether it
   * threw or rejected. A call costs a few additions.
   */
  handlerTimer(handler: string): HandlerRecorder {
    return this.series.handlers.recorder({ ...this.labels, handler });
  }

  /** `count` events were published to Redis by this gateway process (scale-out entry point). */
  eventsPublished(count: number): void {
    this.series.redisPublished.inc(this.labels, count);
  }

  /** `count` events were read from Redis by this consumer process (scale-out entry point). */
  eventsRead(count: number): void {
    this.series.redisRead.inc(this.labels, count);
  }
}

/** Counts of one dispatch name since the last scrape. */
interface DispatchCount {
  received: number;
  skipped: number;
}

/** One cluster as measured: the receive-path observer, the lifecycle listener, the scrape. */
class ClusterBinding implements ShardObserver, ScrapeSource {
  private wireBytes = 0;
  private inflatedBytes = 0;
  private readonly dispatches = new Map<string, DispatchCount>();
  /** Shards whose connection ended while Resuming: a next 'identify' means the RESUME was refused. */
  private readonly leftResuming = new Set<number>();
  /** Per shard: the sequence the last scrape saw and when it first saw it. */
  private readonly sequences = new Map<number, { sequence: number; since: number }>();

  constructor(
    private readonly cluster: Cluster,
    private readonly series: GatewaySeries,
    private readonly labels: Readonly<Record<string, string>>,
  ) {}

  // ---- the receive path (called per message: additions only) ----------------------------

  frameReceived(bytes: number): void {
    this.wireBytes += bytes;
  }

  payloadReceived(bytes: number): void {
    this.inflatedBytes += bytes;
  }

  dispatchReceived(type: string, decoded: boolean): void {
    let count = this.dispatches.get(type);
    if (count === undefined) count = this.newDispatchName(type);
    count.received++;
    if (!decoded) count.skipped++;
  }

  heartbeatAcked(_shardId: number, ms: number): void {
    this.series.heartbeatLatency.observe(this.labels, ms / 1000);
  }

  identifySent(_shardId: number, queueWaitMs: number): void {
    this.series.identifies.inc(this.labels);
    this.series.identifyQueueWait.observe(this.labels, queueWaitMs / 1000);
  }

  // ---- lifecycle events ------------------------------------------------------------------

  onEvent(event: GatewayEvent): void {
    const series = this.series;
    switch (event.type) {
      case EventType.ShardConnected:
        series.connections.inc(this.labels);
        return;
      case EventType.ShardStateChanged: {
        const { previous, state } = event.data as ShardStateChangedData;
        // The shard enters Resuming once its RESUME is on the wire.
        if (state === ShardState.Resuming) series.resumes.inc(this.labels);
        if (previous === ShardState.Resuming) this.leftResuming.add(event.shardId);
        else this.leftResuming.delete(event.shardId);
        return;
      }
      case EventType.ShardDisconnected: {
        const data = event.data as ShardDisconnectedData;
        const wasResuming = this.leftResuming.delete(event.shardId);
        if (data.next === 'stop') return;
        series.reconnects.inc({
          ...this.labels,
          cause: data.cause,
          code: disconnectCode(data),
        });
        if (wasResuming && data.next === 'identify') series.resumesRejected.inc(this.labels);
        return;
      }
    }
  }

  // ---- scrape ----------------------------------------------------------------------------

  flush(series: GatewaySeries): void {
    if (this.wireBytes > 0) series.receivedBytes.inc(this.labels, this.wireBytes);
    if (this.inflatedBytes > 0) series.inflatedBytes.inc(this.labels, this.inflatedBytes);
    this.wireBytes = 0;
    this.inflatedBytes = 0;
    for (const [type, count] of this.dispatches) {
      if (count.received === 0) continue;
      series.dispatches.inc({ ...this.labels, type }, count.received);
      if (count.skipped > 0) series.dispatchesSkipped.inc({ ...this.labels, type }, count.skipped);
      count.received = 0;
      count.skipped = 0;
    }
  }

  collect(series: GatewaySeries, gauge: ScrapedGauge): void {
    if (gauge === 'identifyBudgetRemaining') {
      const remaining = this.cluster.identifyBudgetRemaining;
      if (remaining !== null) series.identifyBudgetRemaining.set(this.labels, remaining);
      return;
    }
    const now = performance.now();
    for (const info of this.cluster.info()) {
      const shard = String(info.id);
      switch (gauge) {
        case 'shardState':
          for (const state of ALL_STATES) {
            series.shardState.set({ ...this.labels, shard, state }, state === info.state ? 1 : 0);
          }
          break;
        case 'shardLatency': {
          const last = info.latency.recent.at(-1);
          if (last !== undefined) series.shardLatency.set({ ...this.labels, shard }, last / 1000);
          break;
        }
        case 'shardSequenceAge': {
          if (info.sequence === null) break;
          let seen = this.sequences.get(info.id);
          if (seen === undefined || seen.sequence !== info.sequence) {
            seen = { sequence: info.sequence, since: now };
            this.sequences.set(info.id, seen);
          }
          series.shardSequenceAge.set({ ...this.labels, shard }, (now - seen.since) / 1000);
          break;
        }
      }
    }
  }

  private newDispatchName(type: string): DispatchCount {
    const name = this.dispatches.size < MAX_DISPATCH_NAMES ? type : OVERFLOW_NAME;
    let count = this.dispatches.get(name);
    if (count === undefined) {
      count = { received: 0, skipped: 0 };
      this.dispatches.set(name, count);
    }
    return count;
  }
}
