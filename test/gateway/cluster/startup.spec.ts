import { join } from 'node:path';
import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import { recordPathFor } from '../../../lib/gateway/cluster/cluster-shards.js';
import {
  checkIdentifyBudget,
  createIdentifyQueue,
  gatewayUrlFor,
  needsGatewayBot,
} from '../../../lib/gateway/cluster/startup.js';
import { normalizeClusterOptions, type ClusterOptions } from '../../../lib/gateway/config/index.js';
import { IdentifyBudgetError } from '../../../lib/gateway/errors/errors.js';
import type { GatewayLogger } from '../../../lib/gateway/logger.js';
import type { IdentifyQueue } from '../../../lib/gateway/queue/identify-queue.js';
import type { GatewayBotInfo } from '../../../lib/gateway/rest/gateway-bot.js';

const base: ClusterOptions = { token: 'abc.def', intents: ['Guilds'] };
const config = (options: Partial<ClusterOptions> = {}) =>
  normalizeClusterOptions({ ...base, ...options } as ClusterOptions);
const gatewayBot = (remaining: number): GatewayBotInfo => ({
  url: 'wss://gateway.example.test//',
  shards: 4,
  sessionStartLimit: { total: 1000, remaining, resetAfter: 60_000, maxConcurrency: 2 },
});
const injected: IdentifyQueue = { enqueue: async () => {} };

function logger() {
  const warnings: string[] = [];
  const value: GatewayLogger = {
    debug: () => {},
    log: () => {},
    warn: (message) => warnings.push(message),
    error: () => {},
  };
  return { value, warnings };
}

describe('cluster start-up steps (without a gateway)', () => {
  it('asks GET /gateway/bot for the recommended count or for the default queue only', () => {
    const range = { shards: { from: 0, to: 1, shardCount: 2 } } as Partial<ClusterOptions>;
    expect(needsGatewayBot(config({ shards: 'recommended' }), injected)).toBe(true);
    expect(needsGatewayBot(config(range), undefined)).toBe(true);
    expect(needsGatewayBot(config(range), injected)).toBe(false);
  });

  it("connects to GET /gateway/bot's URL without trailing slashes, unless the options name one", () => {
    expect(gatewayUrlFor(config(), false, gatewayBot(10))).toBe('wss://gateway.example.test');
    const named = config({ gatewayUrl: 'wss://own.example.test' });
    expect(gatewayUrlFor(named, true, gatewayBot(10))).toBe('wss://own.example.test');
    expect(gatewayUrlFor(config(), false, null)).toBe(config().gatewayUrl);
  });

  it("GW-ID-5: 'fail' refuses before any IDENTIFY when the shards to identify exceed the budget", async () => {
    const clock = new ManualClock();
    const log = logger();
    const fail = config({ onBudgetExhausted: 'fail' });
    await expect(
      checkIdentifyBudget(3, null, gatewayBot(3), fail, clock, log.value),
    ).resolves.toBeUndefined();
    await expect(
      checkIdentifyBudget(4, null, gatewayBot(3), fail, clock, log.value),
    ).rejects.toThrow(IdentifyBudgetError);
    const queue = createIdentifyQueue(fail, gatewayBot(3), clock, log.value, () => {});
    await expect(
      checkIdentifyBudget(4, queue, gatewayBot(3), fail, clock, log.value),
    ).rejects.toThrow(IdentifyBudgetError);
  });

  it("GW-ID-5: 'wait' logs the shortfall and the reset it waits for", async () => {
    const clock = new ManualClock();
    const log = logger();
    const wait = config({ onBudgetExhausted: 'wait' });
    const queue = createIdentifyQueue(wait, gatewayBot(1), clock, log.value, () => {});
    await checkIdentifyBudget(2, queue, gatewayBot(1), wait, clock, log.value);
    expect(log.warnings).toEqual([
      expect.stringMatching(/^Identify budget too small for 2 shard\(s\); some wait for the reset/),
    ]);
  });

  it('several recording shards write one file each', () => {
    expect(recordPathFor(join('rec', 'run.jsonl'), 3, 1)).toBe(join('rec', 'run.jsonl'));
    expect(recordPathFor(join('rec', 'run.jsonl'), 3, 4)).toBe(join('rec', 'run.shard-3.jsonl'));
  });
});
