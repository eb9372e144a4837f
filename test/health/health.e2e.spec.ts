import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { ClusterService, GatewayModule, ShardState } from 'nestjs-discord-gateway';
import { GatewayHealthIndicator } from 'nestjs-discord-gateway/health';
import { FakeGateway } from 'nestjs-discord-gateway/testing';
import { boot, gatewayOptions, type BootedApp } from '../nest/app/harness.js';

/** The probes as an app would write them. */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly gateway: GatewayHealthIndicator,
  ) {}

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.gateway.isReady('discord')]);
  }

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.gateway.isLive('discord')]);
  }

  /** Liveness with a short threshold, to see a shard disconnected past it. */
  @Get('live-strict')
  @HealthCheck()
  liveStrict() {
    return this.health.check([
      () => this.gateway.isLive('discord', { disconnectedThresholdMs: 100 }),
    ]);
  }
}

interface ProbeAnswer {
  /** 200 or 503, as terminus answers over HTTP. */
  readonly http: number;
  readonly status: string;
  readonly discord: { status: string; verdict: string; reason: string };
}

/** Calls a probe the way terminus answers it: a result, or a 503 carrying the same body. */
async function probe(check: () => Promise<unknown>): Promise<ProbeAnswer> {
  let body: { status: string; details: { discord: ProbeAnswer['discord'] } };
  let http = 200;
  try {
    body = (await check()) as typeof body;
  } catch (error) {
    if (!(error instanceof ServiceUnavailableException)) throw error;
    http = 503;
    body = error.getResponse() as typeof body;
  }
  return { http, status: body.status, discord: body.details.discord };
}

const HEARTBEAT_MS = 1_500;

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`${what} did not happen in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('GatewayHealthIndicator (@nestjs/terminus): starting, up, degraded, down', () => {
  let gateway: FakeGateway;
  let booted: BootedApp | undefined;

  afterEach(async () => {
    await booted?.app.close();
    booted = undefined;
    await gateway.stop();
  });

  it('walks through the four states as a bot starts, loses a shard for a while, and hits 4004', async () => {
    // Two shards in one bucket: the second waits a 1.5 s identify window, so the start is seen.
    gateway = await FakeGateway.start({
      shards: 2,
      maxConcurrency: 1,
      identifyWindowMs: 1_500,
      // Long enough that a loaded machine never makes a connection look like a zombie.
      heartbeatIntervalMs: HEARTBEAT_MS,
      traffic: { guildCount: 2, membersPerGuild: 3 },
    });
    booted = await boot(gateway, {
      gateway: GatewayModule.forRoot(
        gatewayOptions(gateway, {
          shards: { from: 0, to: 1, shardCount: 2 },
          identifyWindowMs: 1_500,
          limits: { commandWindowMs: Math.round((60_000 * HEARTBEAT_MS) / 41_250) },
        }),
      ),
      imports: [TerminusModule],
      controllers: [HealthController],
      providers: [GatewayHealthIndicator],
    });
    const controller = booted.app.get(HealthController);
    const cluster = booted.app.get(ClusterService);

    // starting: the shards are identifying within the expected start-up time. Not ready;
    // live (a restart would only start over).
    const starting = await probe(() => controller.ready());
    expect(starting).toMatchObject({
      http: 503,
      status: 'error',
      discord: { status: 'down', verdict: 'starting' },
    });
    expect(starting.discord.reason).toMatch(/starting/);
    expect(await probe(() => controller.live())).toMatchObject({
      http: 200,
      discord: { status: 'up', verdict: 'starting' },
    });
    expect(cluster.health()).toMatchObject({ status: 'starting', ready: false, live: true });

    // up: every shard Active.
    await cluster.waitUntilReady();
    expect(await probe(() => controller.ready())).toMatchObject({
      http: 200,
      status: 'ok',
      discord: { status: 'up', verdict: 'up', reason: 'every shard Active (2)' },
    });

    // degraded: shard 1's connection drops and the gateway refuses it for 1.5 s, so it keeps
    // reconnecting with backoff. Still ready (terminus reports degraded, HTTP 200) and live.
    gateway.refuseUpgrades({ durationMs: 1_500 });
    gateway.connectionFor(1)!.terminate();
    await until(() => cluster.info()[1].state !== ShardState.Active, 'shard 1 dropped');
    const degraded = await probe(() => controller.ready());
    expect(degraded).toMatchObject({
      http: 200,
      status: 'degraded',
      discord: { status: 'degraded', verdict: 'degraded', reason: '1 reconnecting; 1 of 2 Active' },
    });
    expect(await probe(() => controller.live())).toMatchObject({ http: 200 });
    // Past a (short) threshold, the same shard is disconnected: down, and not live.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(cluster.info()[1].state).not.toBe(ShardState.Active); // refused for 1.5 s
    expect(await probe(() => controller.liveStrict())).toMatchObject({
      http: 503,
      discord: { status: 'down', verdict: 'down' },
    });
    await until(
      () => cluster.info().every((shard) => shard.state === ShardState.Active),
      'shard 1 back',
    );
    expect(await probe(() => controller.ready())).toMatchObject({
      http: 200,
      discord: { verdict: 'up' },
    });

    // down: the gateway closes shard 0 with 4004 (authentication failed), a fatal close. Not
    // ready; still live: restarting cannot fix a token and would spend IDENTIFYs.
    gateway.connectionFor(0)!.close(4004, 'Authentication failed.');
    await until(() => cluster.info()[0].state === ShardState.FatallyClosed, 'shard 0 fatal');
    const down = await probe(() => controller.ready());
    expect(down).toMatchObject({
      http: 503,
      status: 'error',
      discord: { status: 'down', verdict: 'down' },
    });
    expect(down.discord.reason).toBe('1 fatally closed (shard 0 with 4004); 1 of 2 Active');
    expect(await probe(() => controller.live())).toMatchObject({
      http: 200,
      discord: { status: 'up', verdict: 'down' },
    });
    expect(cluster.health()).toMatchObject({
      status: 'down',
      ready: false,
      live: true,
      problems: [{ shardId: 0, status: 'fatal', state: 'FATALLY_CLOSED', closeCode: 4004 }],
    });
  }, 30_000);
});
