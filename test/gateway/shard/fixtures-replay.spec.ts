import { jest } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ShardState } from '../../../lib/gateway/shard/shard-state.js';
import { FakeGateway } from '../../../lib/testing/index.js';
import { describeWithFixtures, fixturesDir, loadFixture } from '../../support/fixtures.js';
import { count, harness, until, type Harness } from './helpers.js';

jest.setTimeout(20_000);

const ALL_INTENTS = 53_608_447;

interface Fixture {
  name: string;
  t: string;
  d: unknown;
}

function dispatchFixtures(): Fixture[] {
  const dir = fixturesDir();
  if (dir === null) return [];
  const names = [
    ...readdirSync(dir).filter((f) => f.endsWith('.json')),
    ...readdirSync(join(dir, 'wire'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => `wire/${f}`),
  ];
  const out: Fixture[] = [];
  for (const name of names) {
    const payload = loadFixture(name);
    if (payload?.op === 0 && typeof payload.t === 'string')
      out.push({ name, t: payload.t, d: payload.d });
  }
  return out;
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describeWithFixtures('every dispatch fixture replays through FakeGateway and a Shard', () => {
  it('arrives decoded, deep-equal to the fixture d, in order (zlib-stream)', async () => {
    const fixtures = dispatchFixtures().filter((f) => f.t !== 'RESUMED');
    expect(fixtures.length).toBeGreaterThanOrEqual(30);
    h = await harness(
      {},
      {
        intents: ALL_INTENTS,
        compression: 'zlib-stream',
        // The READY fixture's resume_gateway_url is Discord's; this gateway is on loopback.
        trustedResumeHosts: ['*.discord.gg'],
      },
    );
    await h.shard.connect();
    await until(() => count(h!.events, 'SHARD_GUILDS_READY') === 1);
    const start = h.events.length;
    const sent = await h.gw.replay(
      fixtures.map((f) => ({ op: 0, t: f.t, s: null, d: f.d })),
      { includeSessionEvents: true },
    );
    expect(sent).toBe(fixtures.length);
    const isFixtureEvent = (type: string): boolean => !type.startsWith('SHARD_');
    await until(
      () => h!.events.slice(start).filter((e) => isFixtureEvent(e.type)).length === fixtures.length,
    );
    const delivered = h.events.slice(start).filter((e) => isFixtureEvent(e.type));
    delivered.forEach((event, i) => {
      expect({ name: fixtures[i]!.name, type: event.type, data: event.data }).toEqual({
        name: fixtures[i]!.name,
        type: fixtures[i]!.t,
        data: fixtures[i]!.d,
      });
    });
    expect(count(h.events, 'SHARD_ERROR')).toBe(0);
  });

  it('RESUMED.json arrives decoded after a real RESUME', async () => {
    const resumed = dispatchFixtures().find((f) => f.name === 'RESUMED.json')!;
    h = await harness({ tokens: [FakeGateway.defaultToken] });
    await h.shard.connect();
    h.gw.nextConnections({ withholdReady: true });
    (await h.gw.waitForConnection(0)).reconnect();
    await until(
      () =>
        h!.shard.state === ShardState.Resuming &&
        h!.gw.connections.some((c) => c.isOpen && c.listener === 'resume'),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const conn = h.gw.connections.find((c) => c.listener === 'resume')!;
    conn.sendRaw(
      JSON.stringify({ op: 0, t: 'RESUMED', s: h.shard.session!.sequence + 1, d: resumed.d }),
    );
    await until(() => count(h!.events, 'RESUMED') === 1);
    expect(h.data('RESUMED')[0]).toEqual(resumed.d);
    expect(h.shard.state).toBe(ShardState.Active);
  });
});
