import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { ClusterHealthOptions, GatewayHealthVerdict } from '../gateway/index.js';
import { ClusterService } from '../nest/cluster.service.js';

/**
 * What an indicator result carries besides its own status: the verdict (`verdict` is its
 * status: `up`, `starting`, `degraded` or `down`), without the probe answers. A type, not an
 * interface, so that terminus takes it as its `Record<string, unknown>` data.
 */
type VerdictDetails = {
  readonly verdict: GatewayHealthVerdict['status'];
  readonly reason: string;
  readonly shards: GatewayHealthVerdict['shards'];
  readonly problems: GatewayHealthVerdict['problems'];
};

/**
 * The gateway's health for `@nestjs/terminus` (built on its `HealthIndicatorService`). Add
 * it to the providers of the module that holds your health controller, next to
 * `TerminusModule`; it needs `ClusterService` there (import `GatewayModule` in that module,
 * or make it global with `isGlobal: true`).
 *
 * - {@link isReady} for the readiness probe: `up` and `degraded` are ready (terminus answers
 *   200, `degraded` reported as such), `starting` and `down` are not (503).
 * - {@link isLive} for the liveness probe: down (503) only when a shard has been disconnected
 *   past the threshold; a bot still starting, or stopped by a fatal close code (4004, a
 *   restart cannot fix it and spends IDENTIFYs), stays live.
 *
 * Each result carries the verdict (`verdict`: its status, `reason`, shard counts, the worst shards) under
 * its key. The verdict is `Cluster.health()`; see `judgeHealth` for the four states.
 *
 * @example
 * \@Get('ready') \@HealthCheck()
 * ready() { return this.health.check([() => this.gateway.isReady('discord')]); }
 */
@Injectable()
export class GatewayHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(ClusterService) private readonly cluster: ClusterService,
  ) {}

  /** Readiness: `up` or `degraded` per the verdict, else `down`. */
  isReady<const Key extends string>(
    key: Key,
    options?: ClusterHealthOptions,
  ): HealthIndicatorResult<Key> {
    const verdict = this.cluster.health(options);
    const session = this.indicators.check(key);
    const details = detailsOf(verdict);
    if (verdict.status === 'up') return session.up(details);
    return verdict.ready ? session.degraded(details) : session.down(details);
  }

  /** Liveness: `down` only when a restart may help (a shard disconnected past the threshold). */
  isLive<const Key extends string>(
    key: Key,
    options?: ClusterHealthOptions,
  ): HealthIndicatorResult<Key> {
    const verdict = this.cluster.health(options);
    const session = this.indicators.check(key);
    return verdict.live ? session.up(detailsOf(verdict)) : session.down(detailsOf(verdict));
  }
}

function detailsOf({ status, reason, shards, problems }: GatewayHealthVerdict): VerdictDetails {
  return { verdict: status, reason, shards, problems };
}
