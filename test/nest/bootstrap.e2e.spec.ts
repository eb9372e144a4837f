import { GatewayModule, HttpError } from '../../lib/nest/index.js';
import type { FakeGateway } from '../../lib/testing/index.js';
import { boot, gatewayOptions, startFake, type BootedApp } from './app/harness.js';

describe('bootstrap: failing fast, and commands issued during startup', () => {
  let fake: FakeGateway;
  let booted: BootedApp | null = null;

  beforeEach(async () => {
    fake = await startFake();
  });

  afterEach(async () => {
    await booted?.app.close();
    booted = null;
    await fake.stop();
  });

  it('a token GET /gateway/bot rejects (401) fails the application start, before any connection', async () => {
    const start = boot(fake, {
      gateway: GatewayModule.forRoot(
        gatewayOptions(fake, { token: 'not-the-token', shards: 'recommended' }),
      ),
    });
    const error = await start.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(401);
    expect((error as Error).message).not.toContain('not-the-token');
    expect(fake.record.connections).toHaveLength(0);
  });

  it('a command sent while up() still fetches GET /gateway/bot waits for the shards, then reaches the gateway', async () => {
    booted = await boot(fake, {
      gateway: GatewayModule.forRoot(
        gatewayOptions(fake, { shards: 'recommended', connectOnBootstrap: false }),
      ),
    });
    const up = booted.cluster.up().catch((e: unknown) => e);
    expect(booted.cluster.shardIds).toEqual([]);
    await booted.cluster.command(0, {
      op: 3,
      d: { since: null, activities: [], status: 'idle', afk: false },
    });
    expect(await up).toBeUndefined();
    await fake.waitFor((record) =>
      record.connections.some((c) => c.received.some((p) => p.op === 3)),
    );
    const presence = fake.record.connections.flatMap((c) => c.received).find((p) => p.op === 3);
    expect(presence?.d).toMatchObject({ status: 'idle' });
  });
});
