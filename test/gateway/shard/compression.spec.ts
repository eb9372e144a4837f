import { jest } from '@jest/globals';
import { FakeGateway } from '../../../lib/testing/index.js';
import { count, harness, until, type Harness } from './helpers.js';

jest.setTimeout(20_000);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function roundTrip(run: Harness, n: number): Promise<string[]> {
  await run.shard.connect();
  const conn = await run.gw.waitForConnection(0);
  for (let i = 0; i < n; i++)
    conn.dispatch(
      'MESSAGE_CREATE',
      run.gw.traffic.messageCreate(run.gw.traffic.guilds[0]!, `c${i}`),
    );
  await until(() => count(run.events, 'MESSAGE_CREATE') === n);
  return run.data('MESSAGE_CREATE').map((d) => d.content as string);
}

describe('transport compression through the Shard', () => {
  it.each(['messages', 'fragments'] as const)(
    'GW-EN-4: zlib-stream with every message split across 3 WebSocket %s',
    async (splitAs) => {
      h = await harness({ connection: { splitParts: 3, splitAs } }, { compression: 'zlib-stream' });
      expect(await roundTrip(h, 20)).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
      // Split messages need several WebSocket messages each; ws joins continuation frames itself.
      if (splitAs === 'messages') {
        expect(h.shard.stats.framesReceived).toBeGreaterThan(h.shard.stats.payloadsReceived);
      }
      expect(count(h.events, 'SHARD_ERROR')).toBe(0);
    },
  );

  it('GW-EN-1: no compression: plain text frames, no compress parameter', async () => {
    h = await harness({}, { compression: 'none' });
    expect(await roundTrip(h, 5)).toHaveLength(5);
    expect(h.gw.record.connections[0]!.query).toBe('v=10&encoding=json');
  });

  if (FakeGateway.supportsZstd) {
    it('GW-EN-5: zstd-stream, one streaming context per connection, across a resume', async () => {
      h = await harness({}, { compression: 'zstd-stream' });
      expect(await roundTrip(h, 5)).toHaveLength(5);
      (await h.gw.waitForConnection(0)).reconnect();
      await until(() => count(h!.events, 'SHARD_RESUMED') === 1);
      expect(h.gw.record.connections[1]!.query).toBe('v=10&encoding=json&compress=zstd-stream');
    });
  } else {
    console.warn(
      `Skipping the zstd-stream transport test: this Node (${process.version}) has no zstd encoder for FakeGateway`,
    );
    it.skip('GW-EN-5: zstd-stream (skipped: FakeGateway has no zstd encoder on this Node)', () => {});
  }
});
