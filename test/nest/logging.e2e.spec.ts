import { jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import {
  ConfigError,
  EventType,
  GatewayModule,
  type GatewayModuleOptions,
} from '../../lib/nest/index.js';
import { FakeGateway } from '../../lib/testing/index.js';
import { PlainConsumer } from './app/consumers/plain.consumer.js';
import { boot, gatewayOptions, messageData, type BootedApp } from './app/harness.js';
import type { LogLine } from './app/log-capture.js';

jest.setTimeout(20_000);

const SHARDS = 2;

/** The module's lines only: the capture also keeps Nest's own (instance loader, ...). */
const gatewayLines = (booted: BootedApp): LogLine[] =>
  booted.logs.lines.filter((line) => line.context === 'DiscordGateway');

describe('logLevel: what the module writes through a logger that prints every level', () => {
  let fake: FakeGateway;
  let booted: BootedApp | undefined;

  beforeEach(async () => {
    fake = await FakeGateway.start({
      heartbeatIntervalMs: 250,
      shards: SHARDS,
      maxConcurrency: SHARDS,
      traffic: { guildCount: 4, membersPerGuild: 2 },
    });
    booted = undefined;
  });

  afterEach(async () => {
    await booted?.app.close();
    await fake.stop();
  });

  /** Options for the fake's shards; `logLevel` left out unless given. */
  const options = (overrides: Partial<GatewayModuleOptions>): GatewayModuleOptions => {
    const { logLevel: _debug, ...base } = gatewayOptions(fake, {
      shards: { from: 0, to: SHARDS - 1, shardCount: SHARDS },
    });
    return { ...base, ...overrides } as GatewayModuleOptions;
  };

  const run = async (overrides: Partial<GatewayModuleOptions>): Promise<BootedApp> => {
    booted = await boot(fake, {
      gateway: GatewayModule.forRoot(options(overrides)),
      providers: [PlainConsumer],
    });
    await booted.cluster.waitUntilReady();
    fake.dispatch(EventType.MessageCreate, messageData('hello'), {
      shardId: 0,
      applyIntents: false,
    });
    await booted.calls.waitFor('PlainConsumer.onMessage');
    return booted;
  };

  it('by default writes the milestones and problems only: no debug line at start-up', async () => {
    const app = await run({});
    const lines = gatewayLines(app);
    expect(lines.filter((line) => line.level === 'debug' || line.level === 'verbose')).toEqual([]);
    // One READY per shard and the cluster's: the milestones a start-up must show.
    expect(
      lines.filter((line) => line.level === 'log' && / READY /.test(line.message)),
    ).toHaveLength(SHARDS);
    expect(lines.some((line) => line.message.startsWith('Cluster ready'))).toBe(true);
    // A handful of lines per shard, not a trace.
    expect(lines.length).toBeLessThanOrEqual(3 * SHARDS + 3);
  });

  it("'debug' adds the protocol traces and the handler bindings", async () => {
    const app = await run({ logLevel: 'debug' });
    const debug = gatewayLines(app).filter((line) => line.level === 'debug');
    expect(debug.some((line) => line.message.includes('Bound PlainConsumer.onMessage'))).toBe(true);
    expect(debug.length).toBeGreaterThanOrEqual(5 * SHARDS);
  });

  it("'warn' keeps warnings and drops milestones", async () => {
    // Without MessageContent the module warns that PlainConsumer gets empty content.
    const app = await run({ logLevel: 'warn', intents: ['Guilds', 'GuildMessages'] });
    const lines = gatewayLines(app);
    expect(lines.filter((line) => line.level === 'log' || line.level === 'debug')).toEqual([]);
    expect(lines.some((line) => line.level === 'warn' && /MessageContent/.test(line.message))).toBe(
      true,
    );
  });

  it('an unknown level fails at startup, listed with the other problems', async () => {
    const compile = Test.createTestingModule({
      imports: [
        GatewayModule.forRoot(
          options({ logLevel: 'verbose' as never, largeThreshold: 10 }) as GatewayModuleOptions,
        ),
      ],
    }).compile();
    const error = await compile.then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => issue.path).sort()).toEqual([
      'largeThreshold',
      'logLevel',
    ]);
  });
});
