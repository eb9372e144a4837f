import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  ClusterService,
  EventType,
  OnAnyGatewayEvent,
  type GatewayEvent,
} from 'nestjs-discord-gateway';
import { SAMPLE_CONFIG, type SampleConfig } from './sample.config.js';

/** Counts events by type and prints a stats line (events/s by type, shard latency and state). */
@Injectable()
export class StatsService implements OnModuleDestroy {
  private readonly logger = new Logger('Stats');
  private readonly counts = new Map<string, number>();
  private readonly shardsSeen = new Set<number>();
  private windowStart = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly cluster: ClusterService,
    @Inject(SAMPLE_CONFIG) config: SampleConfig,
  ) {
    this.timer = setInterval(() => this.print(), config.statsEveryMs);
    this.timer.unref();
  }

  @OnAnyGatewayEvent()
  count(_data: unknown, event: GatewayEvent): void {
    this.counts.set(event.type, (this.counts.get(event.type) ?? 0) + 1);
    if (event.sequence !== null) this.shardsSeen.add(event.shardId);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private print(): void {
    const seconds = Math.max(0.001, (Date.now() - this.windowStart) / 1000);
    const rates = [...this.counts.entries()]
      .filter(([type]) => !type.startsWith('SHARD_') && !type.startsWith('CLUSTER_'))
      .sort((a, b) => b[1] - a[1])
      .map(([type, n]) => `${type} ${(n / seconds).toFixed(1)}/s`)
      .join(', ');
    const shards = this.cluster
      .info()
      .map((shard) => {
        const latency =
          shard.latency.average === null ? '-' : `${Math.round(shard.latency.average)}ms`;
        return `#${shard.id} ${shard.state} ${latency}`;
      })
      .join(' | ');
    this.logger.log(
      `events: ${rates || 'none yet'} | shards with dispatches: ${this.shardsSeen.size} | ${shards}`,
    );
    this.counts.clear();
    this.windowStart = Date.now();
  }

  /** Exposed for the stats of one type, e.g. in tests. */
  seen(type: EventType): number {
    return this.counts.get(type) ?? 0;
  }
}
