import { inspect } from 'node:util';
import { jest } from '@jest/globals';
import {
  ClusterService,
  GatewayModule,
  ShardService,
  type GatewayModuleOptions,
} from '../../lib/nest/index.js';
import { GATEWAY_CLUSTER, GATEWAY_RESOLVED_OPTIONS } from '../../lib/nest/gateway.constants.js';
import { GatewayExplorer } from '../../lib/nest/gateway.explorer.js';
import { FakeGateway } from '../../lib/testing/index.js';
import { PlainConsumer } from './app/consumers/plain.consumer.js';
import { HEARTBEAT_INTERVAL_MS, boot, gatewayOptions, type BootedApp } from './app/harness.js';

jest.setTimeout(20_000);

/** A token-shaped marker: any rendering that contains MARKER leaked it. */
const MARKER = 'NEST-MARKER-7e57c0de';
const TOKEN = `MTEwMDAwMDAwMDAwMDAwMDAx.${MARKER}.abc_def-ghi`;

/**
 * Every way a library object commonly ends up in a log line or a crash report. Deep enough to
 * walk from any of them through Nest's container to every provider (the options provider
 * included); an unbounded walk of the whole container takes minutes.
 */
function renderings(value: unknown): string[] {
  const texts = [
    inspect(value),
    inspect(value, { depth: 12, showHidden: true }),
    inspect(value, { depth: 12, showHidden: true, customInspect: false }),
    String(value),
  ];
  try {
    texts.push(
      JSON.stringify(value, (_key, item: unknown) =>
        typeof item === 'bigint' ? item.toString() : item,
      ) ?? '',
    );
  } catch (error) {
    // Cyclic Nest objects cannot be serialized; the error must not quote the token either.
    texts.push(String(error));
  }
  return texts;
}

describe('the Nest module never shows the token (README: Security)', () => {
  let fake: FakeGateway;
  let booted: BootedApp | undefined;

  beforeEach(async () => {
    fake = await FakeGateway.start({
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      shards: 1,
      tokens: [TOKEN],
      traffic: { guildCount: 2, membersPerGuild: 3 },
    });
  });

  afterEach(async () => {
    await booted?.app.close();
    booted = undefined;
    await fake.stop();
  });

  it.each([
    ['forRoot', (options: GatewayModuleOptions) => GatewayModule.forRoot(options)],
    [
      'forRootAsync',
      (options: GatewayModuleOptions) =>
        GatewayModule.forRootAsync({ useFactory: () => ({ ...options }) }),
    ],
  ])(
    '%s: the module, its providers, the resolved options, the cluster and its shards, inspected 12 levels deep',
    async (_how, gateway) => {
      booted = await boot(fake, {
        gateway: gateway(gatewayOptions(fake, { token: `Bot ${TOKEN}` })),
        providers: [PlainConsumer],
      });
      await booted.cluster.waitUntilReady();
      const { app } = booted;
      const objects: [string, unknown][] = [
        ['GatewayModule', app.get(GatewayModule)],
        ['ClusterService', app.get(ClusterService)],
        ['ShardService', app.get(ShardService)],
        ['GatewayExplorer', app.get(GatewayExplorer)],
        ['resolved options', app.get(GATEWAY_RESOLVED_OPTIONS)],
        ['Cluster', app.get(GATEWAY_CLUSTER)],
        ['shard 0', app.get(ClusterService).cluster.shard(0)],
      ];
      // The shard really used this token: the session exists only because the fake accepted it.
      expect(fake.record.identifies.map((i) => i.outcome)).toEqual(['accepted']);
      const leaks = objects.flatMap(([name, value]) =>
        renderings(value)
          .filter((text) => text.includes(MARKER))
          .map(() => name),
      );
      expect(leaks).toEqual([]);
    },
  );
});
