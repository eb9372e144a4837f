import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { HandlerMetrics } from './handler-metrics.js';

/** Seconds: from a local loopback gateway (sub-ms) to a struggling connection. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds: a free bucket (0) to a 1,000-shard start (minutes) and a daily budget wait (hours). */
const QUEUE_WAIT_BUCKETS = [0.1, 1, 5, 10, 30, 60, 120, 300, 600, 1_800, 3_600, 21_600, 86_400];

/** Gauges set at scrape time from the clusters themselves. */
export type ScrapedGauge =
  'shardState' | 'shardLatency' | 'shardSequenceAge' | 'identifyBudgetRemaining';

/** What a scrape reads from one bound cluster (see `GatewayMetrics.bind`). */
export interface ScrapeSource {
  /** Moves the hot path's counts accumulated since the last scrape into the counters. */
  flush(series: GatewaySeries): void;
  /** Sets this cluster's values of `gauge` (already reset for every cluster). */
  collect(series: GatewaySeries, gauge: ScrapedGauge): void;
}

/**
 * Every `discord_gateway_*` series of one registry, created once and shared by each
 * `GatewayMetrics` on that registry (one per bot), so that several bots in one app share the
 * names and differ by their `bot` label. See the README's metrics section for the list.
 */
export class GatewaySeries {
  readonly sources = new Set<ScrapeSource>();

  readonly dispatches: Counter;
  readonly dispatchesSkipped: Counter;
  readonly receivedBytes: Counter;
  readonly inflatedBytes: Counter;
  readonly heartbeatLatency: Histogram;
  readonly shardLatency: Gauge;
  readonly connections: Counter;
  readonly reconnects: Counter;
  readonly identifies: Counter;
  readonly resumes: Counter;
  readonly resumesRejected: Counter;
  readonly identifyQueueWait: Histogram;
  readonly identifyBudgetRemaining: Gauge;
  readonly shardState: Gauge;
  readonly shardSequenceAge: Gauge;
  /** `discord_gateway_handler_*`: invocations, errors and duration, by handler. */
  readonly handlers: HandlerMetrics;
  readonly redisPublished: Counter;
  readonly redisRead: Counter;

  /** The metrics themselves, to tell ours from a foreign one of the same name. */
  private readonly own: ReadonlySet<object>;

  constructor(
    private readonly registry: Registry,
    /** Whether every series carries a `bot` label. */
    readonly botLabel: boolean,
  ) {
    const registers = [registry];
    const labels = (...names: string[]): string[] => (botLabel ? ['bot', ...names] : names);
    // Any counter's scrape moves every pending count, so each one reads complete.
    const flushAll = (): void => {
      for (const source of this.sources) source.flush(this);
    };
    const scraped = (gauge: ScrapedGauge) => (): void => {
      this[gauge].reset();
      for (const source of this.sources) source.collect(this, gauge);
    };

    this.dispatches = new Counter({
      name: 'discord_gateway_dispatches_total',
      help: 'Dispatches received (each sequence once), decoded or skipped by the decode filter, by type.',
      labelNames: labels('type'),
      registers,
      collect: flushAll,
    });
    this.dispatchesSkipped = new Counter({
      name: 'discord_gateway_dispatches_skipped_total',
      help: 'Dispatches the decode filter skipped (only peeked, sequence tracked), by type.',
      labelNames: labels('type'),
      registers,
      collect: flushAll,
    });
    this.receivedBytes = new Counter({
      name: 'discord_gateway_received_bytes_total',
      help: 'Bytes of WebSocket messages received, as on the wire (compressed under transport compression).',
      labelNames: labels(),
      registers,
      collect: flushAll,
    });
    this.inflatedBytes = new Counter({
      name: 'discord_gateway_inflated_bytes_total',
      help: 'Bytes of gateway payloads received, after inflating (equal to the wire bytes without compression).',
      labelNames: labels(),
      registers,
      collect: flushAll,
    });
    this.heartbeatLatency = new Histogram({
      name: 'discord_gateway_heartbeat_latency_seconds',
      help: 'Heartbeat round trips (HEARTBEAT to ACK) of every shard.',
      labelNames: labels(),
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.shardLatency = new Gauge({
      name: 'discord_gateway_shard_latency_seconds',
      help: 'The most recent heartbeat round trip of each shard.',
      labelNames: labels('shard'),
      registers,
      collect: scraped('shardLatency'),
    });
    this.connections = new Counter({
      name: 'discord_gateway_connections_total',
      help: 'WebSocket connections opened to the gateway.',
      labelNames: labels(),
      registers,
    });
    this.reconnects = new Counter({
      name: 'discord_gateway_reconnects_total',
      help: 'Connections that ended and were followed by a reconnect, by cause and close code.',
      labelNames: labels('cause', 'code'),
      registers,
    });
    this.identifies = new Counter({
      name: 'discord_gateway_identifies_total',
      help: 'IDENTIFYs sent (each spends one session start of the daily budget).',
      labelNames: labels(),
      registers,
    });
    this.resumes = new Counter({
      name: 'discord_gateway_resumes_total',
      help: 'RESUMEs sent.',
      labelNames: labels(),
      registers,
    });
    this.resumesRejected = new Counter({
      name: 'discord_gateway_resumes_rejected_total',
      help: 'RESUMEs that ended in a new session instead (op 9 false, 4007, 4009, or three failed RESUMEs in a row).',
      labelNames: labels(),
      registers,
    });
    this.identifyQueueWait = new Histogram({
      name: 'discord_gateway_identify_queue_wait_seconds',
      help: 'Time a shard waited in the identify queue before its IDENTIFY.',
      labelNames: labels(),
      buckets: QUEUE_WAIT_BUCKETS,
      registers,
    });
    this.identifyBudgetRemaining = new Gauge({
      name: 'discord_gateway_identify_budget_remaining',
      help: 'Session starts (IDENTIFYs) left in the daily budget, as the identify queue counts them.',
      labelNames: labels(),
      registers,
      collect: scraped('identifyBudgetRemaining'),
    });
    this.shardState = new Gauge({
      name: 'discord_gateway_shard_state',
      help: 'Shard state: 1 for the state the shard is in, 0 for the others.',
      labelNames: labels('shard', 'state'),
      registers,
      collect: scraped('shardState'),
    });
    this.shardSequenceAge = new Gauge({
      name: 'discord_gateway_shard_sequence_age_seconds',
      help: "Seconds since each shard's sequence last moved, as seen by scrapes (resolution: the scrape interval).",
      labelNames: labels('shard'),
      registers,
      collect: scraped('shardSequenceAge'),
    });
    this.handlers = new HandlerMetrics(registry);
    this.redisPublished = new Counter({
      name: 'discord_gateway_redis_events_published_total',
      help: 'Events a gateway process published to Redis (scale-out).',
      labelNames: labels(),
      registers,
    });
    this.redisRead = new Counter({
      name: 'discord_gateway_redis_events_read_total',
      help: 'Events a consumer process read from Redis (scale-out).',
      labelNames: labels(),
      registers,
    });
    this.own = new Set<object>([
      this.dispatches,
      this.dispatchesSkipped,
      this.receivedBytes,
      this.inflatedBytes,
      this.heartbeatLatency,
      this.shardLatency,
      this.connections,
      this.reconnects,
      this.identifies,
      this.resumes,
      this.resumesRejected,
      this.identifyQueueWait,
      this.identifyBudgetRemaining,
      this.shardState,
      this.shardSequenceAge,
      ...this.handlers.registered,
      this.redisPublished,
      this.redisRead,
    ]);
  }

  /** Whether every series is still registered (a `registry.clear()` removes them). */
  get registered(): boolean {
    for (const metric of this.own) {
      const name = (metric as { name: string }).name;
      if (this.registry.getSingleMetric(name) !== metric) return false;
    }
    return true;
  }
}
