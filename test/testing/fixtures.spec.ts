import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FakeGateway, TrafficGenerator, type TrafficEventType } from '../../lib/testing/index.js';
import { describeWithFixtures, fixturesDir, loadFixture } from '../support/fixtures.js';
import { RawClient } from './raw-client.js';

const GENERATED: TrafficEventType[] = [
  'MESSAGE_CREATE',
  'PRESENCE_UPDATE',
  'TYPING_START',
  'MESSAGE_REACTION_ADD',
  'GUILD_MEMBER_ADD',
  'INTERACTION_CREATE',
];
/** Keys a fixture shows that are optional on the wire (a message without reactions has none). */
const OPTIONAL = new Set(['reactions']);

describeWithFixtures('FakeGateway against the documented shapes (fixtures)', () => {
  it.each(GENERATED)('generated %s has every top-level key of the fixture', (type) => {
    const traffic = new TrafficGenerator({ seed: 5 });
    const generated = traffic.event(type, traffic.guilds[0]).d;
    const documented = loadFixture(`${type}.json`).d as Record<string, unknown>;
    expect(
      Object.keys(documented).filter((key) => !(key in generated) && !OPTIONAL.has(key)),
    ).toEqual([]);
  });

  it('generated GUILD_CREATE has every top-level key of the fixture', () => {
    const traffic = new TrafficGenerator({ seed: 5 });
    const generated = traffic.guildCreate(traffic.guilds[0]);
    const documented = loadFixture('GUILD_CREATE.json').d as Record<string, unknown>;
    expect(Object.keys(documented).filter((key) => !(key in generated))).toEqual([]);
  });

  it('every dispatch fixture replays through FakeGateway in order, renumbered, with d unchanged', async () => {
    const dir = fixturesDir()!;
    const files = [
      ...readdirSync(dir).filter((f) => f.endsWith('.json')),
      ...readdirSync(join(dir, 'wire')).map((f) => `wire/${f}`),
    ];
    const dispatches = files
      .map((file) => loadFixture(file))
      .filter((p) => p.op === 0 && p.t !== 'READY' && p.t !== 'RESUMED');
    expect(dispatches.length).toBeGreaterThan(30);
    const gw = await FakeGateway.start();
    const client = await RawClient.connect(gw.url);
    try {
      await client.next(10);
      client.identify(FakeGateway.defaultToken);
      const ready = await client.next(0, 'READY');
      await client.until(() => client.dispatches().length === 1 + ready.d.guilds.length);
      const base = client.dispatches().length;
      expect(await gw.replay(dispatches.map((p) => JSON.stringify(p)))).toBe(dispatches.length);
      await client.until(() => client.dispatches().length === base + dispatches.length);
      const replayed = client.dispatches().slice(base);
      expect(replayed.map((p) => [p.t, p.d])).toEqual(dispatches.map((p) => [p.t, p.d]));
      expect(replayed.map((p) => p.s)).toEqual(replayed.map((_p, i) => base + 1 + i));
    } finally {
      client.ws.terminate();
      await gw.stop();
    }
  });
});
