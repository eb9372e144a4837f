import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ClusterService,
  ConfigError,
  EventType,
  FileSessionStore,
  GatewayModule,
  ShardService,
  ShardState,
  type GatewayModuleOptions,
} from '../../lib/nest/index.js';
import { FakeGateway } from '../../lib/testing/index.js';
import {
  FAKE_GATEWAY_CONFIG,
  FakeConfigModule,
  GatewayConfigService,
} from './app/config/fake-config.module.js';
import { PlainConsumer } from './app/consumers/plain.consumer.js';
import { boot, gatewayOptions, messageData, startFake, type BootedApp } from './app/harness.js';

jest.setTimeout(20_000);

describe('GatewayModule options and lifecycle', () => {
  let fake: FakeGateway;
  let booted: BootedApp | undefined;

  beforeEach(async () => {
    fake = await startFake();
    booted = undefined;
  });

  afterEach(async () => {
    await booted?.app.close();
    await fake.stop();
  });

  const roundTrip = async (app: BootedApp): Promise<void> => {
    await app.cluster.waitUntilReady();
    fake.dispatch(EventType.MessageCreate, messageData('async config'), {
      shardId: 0,
      applyIntents: false,
    });
    await app.calls.waitFor('PlainConsumer.onMessage');
  };

  it('forRootAsync with useFactory, imports and inject', async () => {
    booted = await boot(fake, {
      gateway: GatewayModule.forRootAsync({
        imports: [FakeConfigModule.register(gatewayOptions(fake))],
        inject: [FAKE_GATEWAY_CONFIG],
        useFactory: (options: GatewayModuleOptions) => ({ ...options }),
      }),
      providers: [PlainConsumer],
    });
    await roundTrip(booted);
  });

  it('forRootAsync with useClass (an options factory with its own dependencies)', async () => {
    GatewayConfigService.created = 0;
    booted = await boot(fake, {
      gateway: GatewayModule.forRootAsync({
        imports: [FakeConfigModule.register(gatewayOptions(fake))],
        useClass: GatewayConfigService,
      }),
      providers: [PlainConsumer],
    });
    await roundTrip(booted);
    expect(GatewayConfigService.created).toBe(1);
  });

  it('isGlobal makes ClusterService and ShardService injectable in modules that do not import it', async () => {
    @Injectable()
    class Consumer {
      constructor(
        readonly cluster: ClusterService,
        readonly shards: ShardService,
      ) {}
    }
    @Module({ providers: [Consumer], exports: [Consumer] })
    class FeatureModule {}

    booted = await boot(fake, {
      gateway: GatewayModule.forRoot({ ...gatewayOptions(fake), isGlobal: true }),
      imports: [FeatureModule],
    });
    const consumer = booted.app.get(Consumer);
    expect(consumer.cluster).toBe(booted.cluster);
    await booted.cluster.waitUntilReady();
    const shard = consumer.shards.shard(0);
    expect(shard.state).toBe(ShardState.Active);
    expect(shard.session?.id).toEqual(expect.any(String));
    expect(shard.info().id).toBe(0);
  });

  it('connectOnBootstrap false: binds handlers but opens no connection until up()', async () => {
    booted = await boot(fake, {
      gateway: GatewayModule.forRoot(gatewayOptions(fake, { connectOnBootstrap: false })),
      providers: [PlainConsumer],
    });
    expect(booted.logs.find('log', 'connectOnBootstrap is false')).toHaveLength(1);
    expect(booted.logs.find('debug', 'Bound PlainConsumer.onMessage')).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fake.record.connections).toHaveLength(0);
    expect(booted.cluster.shardIds).toEqual([]);

    await booted.cluster.up();
    expect(fake.record.connections).toHaveLength(1);
    await roundTrip(booted);
  });

  it('rejects an invalid configuration with one ConfigError listing every problem, never a value', async () => {
    const secret = 'Bot Bot this-token-must-never-show';
    const compiling = Test.createTestingModule({
      imports: [
        GatewayModule.forRoot({
          token: secret,
          intents: ['Guilds', 'NoSuchIntent'],
          largeThreshold: 10,
          compression: 'brotli',
          shutdown: 'later',
          connectOnBootstrap: 'yes',
          sessionStore: {},
        } as unknown as GatewayModuleOptions),
      ],
    })
      .setLogger({ log() {}, error() {}, warn() {} })
      .compile();
    const error = await compiling.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).issues.map((issue) => issue.path).sort();
    expect(paths).toEqual([
      'compression',
      'connectOnBootstrap',
      'intents[1]',
      'largeThreshold',
      'sessionStore',
      'shutdown',
      'token',
    ]);
    expect((error as ConfigError).message).not.toContain('this-token-must-never-show');
    expect((error as ConfigError).message).not.toContain('brotli');
  });

  it('warns at startup about handled events whose intents are missing, naming handler and intent', async () => {
    booted = await boot(fake, {
      gateway: GatewayModule.forRoot(
        gatewayOptions(fake, { intents: ['Guilds'], connectOnBootstrap: false }),
      ),
      providers: [PlainConsumer],
    });
    expect(
      booted.logs.find(
        'warn',
        'PlainConsumer.onMessage handles MESSAGE_CREATE, which needs the GuildMessages or DirectMessages intent',
      ),
    ).toHaveLength(1);
  });

  it('warns about MESSAGE_CREATE handlers without MessageContent', async () => {
    booted = await boot(fake, {
      gateway: GatewayModule.forRoot(
        gatewayOptions(fake, { intents: ['Guilds', 'GuildMessages'], connectOnBootstrap: false }),
      ),
      providers: [PlainConsumer],
    });
    expect(
      booted.logs.find(
        'warn',
        'PlainConsumer.onMessage handles MESSAGE_CREATE without the MessageContent intent',
      ),
    ).toHaveLength(1);
    expect(booted.logs.find('warn', 'needs the')).toHaveLength(0);
  });

  it('shuts down with close 1000 without a persistent session store (GW-GT-2); never logs the token', async () => {
    booted = await boot(fake, { providers: [PlainConsumer] });
    await booted.cluster.waitUntilReady();
    await booted.app.close();
    const closing = booted;
    booted = undefined;
    expect(fake.record.connections[0].clientCloseCode).toBe(1000);
    expect(closing.logs.find('log', 'ending the sessions (close 1000)')).toHaveLength(1);
    expect(closing.logs.text()).not.toContain(FakeGateway.defaultToken);
  });

  it('shuts down resumably with a persistent session store and saves the session (GW-GT-2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nest-gateway-'));
    try {
      const path = join(dir, 'sessions.json');
      booted = await boot(fake, {
        gateway: GatewayModule.forRoot(
          gatewayOptions(fake, { sessionStore: new FileSessionStore(path) }),
        ),
      });
      await booted.cluster.waitUntilReady();
      const sessionId = booted.app.get(ShardService).shard(0).session?.id;
      await booted.app.close();
      const closing = booted;
      booted = undefined;
      expect(fake.record.connections[0].clientCloseCode).not.toBe(1000);
      expect(closing.logs.find('log', 'closing resumably')).toHaveLength(1);
      const saved = JSON.parse(await readFile(path, 'utf8')) as {
        sessions: Record<string, { id: string }>;
      };
      expect(saved.sessions['1:0'].id).toBe(sessionId);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("shutdown: 'end' overrides a persistent store", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nest-gateway-'));
    try {
      booted = await boot(fake, {
        gateway: GatewayModule.forRoot(
          gatewayOptions(fake, {
            sessionStore: new FileSessionStore(join(dir, 's.json')),
            shutdown: 'end',
          }),
        ),
      });
      await booted.cluster.waitUntilReady();
      await booted.app.close();
      booted = undefined;
      expect(fake.record.connections[0].clientCloseCode).toBe(1000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
