import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClusterService,
  FileSessionStore,
  GatewayModule,
  type GatewayModuleOptions,
} from '../../lib/nest/index.js';
import { FakeGateway } from '../../lib/testing/index.js';
import { boot, gatewayOptions, type BootedApp } from './app/harness.js';
import { LogCapture } from './app/log-capture.js';

jest.setTimeout(20_000);

const SHARDS = 2;
const HINT = 'app.enableShutdownHooks()';

describe('a persistent session store without shutdown hooks', () => {
  let fake: FakeGateway;
  let dir: string;
  let booted: BootedApp | undefined;
  let context: INestApplicationContext | undefined;

  beforeEach(async () => {
    fake = await FakeGateway.start({
      heartbeatIntervalMs: 250,
      shards: SHARDS,
      maxConcurrency: SHARDS,
      traffic: { guildCount: 4, membersPerGuild: 2 },
    });
    dir = await mkdtemp(join(tmpdir(), 'gateway-hooks-'));
    booted = undefined;
    context = undefined;
  });

  afterEach(async () => {
    await booted?.app.close();
    await context?.close();
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const options = (overrides: Partial<GatewayModuleOptions> = {}): GatewayModuleOptions =>
    gatewayOptions(fake, {
      shards: { from: 0, to: SHARDS - 1, shardCount: SHARDS },
      sessionStore: new FileSessionStore(join(dir, 'sessions.json')),
      ...overrides,
    });

  it('warns once, naming the fix, when the shards become Active', async () => {
    // Jest installs no signal listener itself; the check below depends on that.
    expect(process.listenerCount('SIGTERM') + process.listenerCount('SIGINT')).toBe(0);
    booted = await boot(fake, { gateway: GatewayModule.forRoot(options()) });
    await booted.cluster.waitUntilReady();

    const warnings = booted.logs.find('warn', HINT);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toContain('SIGTERM or SIGINT');
  });

  it("stays quiet for the README's order: createApplicationContext(), then enableShutdownHooks()", async () => {
    @Module({ imports: [GatewayModule.forRoot(options())] })
    class AppModule {}

    const logs = new LogCapture();
    context = await NestFactory.createApplicationContext(AppModule, { logger: logs });
    context.enableShutdownHooks();
    await context.get(ClusterService).waitUntilReady();

    expect(logs.find('warn', HINT)).toEqual([]);
    // The shards reached Active, where the check runs.
    expect(logs.find('log', 'Cluster ready')).toHaveLength(1);
  });

  it('names the signal left without a listener when only one is hooked', async () => {
    booted = await boot(fake, { gateway: GatewayModule.forRoot(options()) });
    booted.app.enableShutdownHooks(['SIGINT']);
    await booted.cluster.waitUntilReady();

    const warnings = booted.logs.find('warn', HINT);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toMatch(/^No SIGTERM listener/);
  });

  it('stays quiet when sessions are not kept (in-memory store: shutdown ends them)', async () => {
    booted = await boot(fake, {
      gateway: GatewayModule.forRoot(options({ sessionStore: undefined })),
    });
    await booted.cluster.waitUntilReady();

    expect(booted.logs.find('warn', HINT)).toEqual([]);
  });
});
