import type { Metric, MetricValueWithName, Registry } from 'prom-client';

/** Seconds: handlers are mostly sub-millisecond; a slow one does I/O. */
export const HANDLER_BUCKETS: readonly number[] = [
  0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10,
];

/** Records one call of a handler: its run time in seconds, and whether it threw or rejected. */
export type HandlerRecorder = (seconds: number, failed: boolean) => void;

/** One handler's calls since the process started (one `bot` and `handler` label pair). */
interface HandlerCalls {
  readonly labels: Readonly<Record<string, string>>;
  calls: number;
  errors: number;
  sum: number;
  /** Calls per bucket of {@link HANDLER_BUCKETS} (not cumulative), the last one above all bounds. */
  readonly buckets: number[];
}

/**
 * The handler series (`discord_gateway_handler_invocations_total`, `_errors_total` and
 * `_duration_seconds`) of one registry. prom-client's own counters and histograms validate
 * and hash their labels on every observation, which costs more than delivering the event to
 * the handler; here a call adds to plain numbers of its handler (found once, when the handler
 * is bound) and the registry reads them when it is scraped. Each series is registered as a
 * prom-client metric of its own type, so a scrape shows them like any other.
 */
export class HandlerMetrics {
  /** The three metrics as registered (to tell them from a foreign metric of the same name). */
  readonly registered: readonly object[];
  private readonly handlers = new Map<string, HandlerCalls>();

  constructor(registry: Registry) {
    const series: [string, string, 'counter' | 'histogram', () => MetricValueWithName<string>[]][] =
      [
        [
          'discord_gateway_handler_invocations_total',
          'Calls of @OnGatewayEvent handlers, by handler (Class.method).',
          'counter',
          () => this.values((h) => [{ labels: h.labels, value: h.calls }]),
        ],
        [
          'discord_gateway_handler_errors_total',
          'Handler calls that threw or rejected, by handler.',
          'counter',
          () => this.values((h) => [{ labels: h.labels, value: h.errors }]),
        ],
        [
          'discord_gateway_handler_duration_seconds',
          'Handler run time, until its promise settled for an async handler, by handler.',
          'histogram',
          () => this.values((h) => histogramValues('discord_gateway_handler_duration_seconds', h)),
        ],
      ];
    this.registered = series.map(([name, help, type, read]) => {
      const metric = {
        name,
        help,
        type,
        aggregator: 'sum',
        // The shape prom-client's registry reads (its typings declare `type` as an enum, but
        // its metrics carry these strings).
        get: async () => ({ name, help, type, aggregator: 'sum', values: read() }),
        // Recorders keep their handler's entry: a reset zeroes it rather than dropping it.
        reset: () => this.handlers.forEach(zero),
      };
      registry.registerMetric(metric as unknown as Metric);
      return metric;
    });
  }

  /** The recorder of one handler (`labels`: its `handler` and, if any, `bot` label). */
  recorder(labels: Readonly<Record<string, string>>): HandlerRecorder {
    const key = JSON.stringify(Object.entries(labels).sort());
    let handler = this.handlers.get(key);
    if (handler === undefined) {
      handler = {
        labels,
        calls: 0,
        errors: 0,
        sum: 0,
        buckets: new Array<number>(HANDLER_BUCKETS.length + 1).fill(0),
      };
      this.handlers.set(key, handler);
    }
    const calls = handler;
    return (seconds, failed) => {
      calls.calls++;
      if (failed) calls.errors++;
      calls.sum += seconds;
      let bucket = 0;
      while (bucket < HANDLER_BUCKETS.length && seconds > HANDLER_BUCKETS[bucket]) bucket++;
      calls.buckets[bucket]++;
    };
  }

  private values(of: (handler: HandlerCalls) => MetricValueWithName<string>[]) {
    const values: MetricValueWithName<string>[] = [];
    for (const handler of this.handlers.values()) values.push(...of(handler));
    return values;
  }
}

function zero(handler: HandlerCalls): void {
  handler.calls = 0;
  handler.errors = 0;
  handler.sum = 0;
  handler.buckets.fill(0);
}

/** A histogram's samples as prom-client writes them: cumulative `_bucket`s up to `+Inf`, `_sum`, `_count`. */
function histogramValues(name: string, handler: HandlerCalls): MetricValueWithName<string>[] {
  const values: MetricValueWithName<string>[] = [];
  let cumulative = 0;
  HANDLER_BUCKETS.forEach((bound, index) => {
    cumulative += handler.buckets[index];
    values.push({
      metricName: `${name}_bucket`,
      labels: { ...handler.labels, le: bound },
      value: cumulative,
    });
  });
  values.push({
    metricName: `${name}_bucket`,
    labels: { ...handler.labels, le: '+Inf' },
    value: handler.calls,
  });
  values.push({ metricName: `${name}_sum`, labels: handler.labels, value: handler.sum });
  values.push({ metricName: `${name}_count`, labels: handler.labels, value: handler.calls });
  return values;
}
