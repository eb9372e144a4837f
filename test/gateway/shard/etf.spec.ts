import { jest } from '@jest/globals';
import { decodeEtf, encodeEtf, etfEncoder } from '../../../lib/testing/etf-encoding.js';
import { createEtfEncoding, loadErlpack } from '../../../lib/gateway/codec/etf-encoding.js';
import { DecodeError } from '../../../lib/gateway/errors/errors.js';
import { harness, until, type Harness } from './helpers.js';

const erlpackLoads = loadErlpack() !== null;
if (!erlpackLoads) console.warn('erlpack is not installed: the ETF round-trip tests are skipped');
const describeWithErlpack = erlpackLoads ? describe : describe.skip;

describeWithErlpack(
  'etfEncoding (erlpack) against the FakeGateway encoder (GW-EN-2, GW-GT-16)',
  () => {
    const etf = createEtfEncoding()!;

    it('GW-GT-16: snowflakes sent as 64-bit integers decode to the same strings as in JSON', () => {
      const payload = {
        t: 'MESSAGE_CREATE',
        s: 42,
        op: 0,
        d: {
          id: '1311111111111111111',
          channel_id: '987654321098765432',
          author: { id: '175928847299117063', bot: false },
          resolved: { users: { '80351110224678912': { id: '80351110224678912' } } },
          nonce: null,
          flags: 0,
          mentions: [],
        },
      };
      const wire = encodeEtf(payload);
      // 110 = SMALL_BIG_EXT: the fake really sent the ids as integers.
      expect(wire.includes(Buffer.from([110, 8, 0]))).toBe(true);
      expect(etf.decode(wire)).toEqual(payload);
    });

    it('GW-EN-2: encodes maps with binary keys, which the fake accepts (atom keys would be 4002)', () => {
      const identify = { op: 2, d: { token: 'x', shard: [0, 1], presence: null, compress: false } };
      expect(decodeEtf(etf.encode(identify) as Buffer)).toEqual(identify);
      // A map with an atom key is refused by the fake's reader.
      const atomKey = Buffer.from([131, 116, 0, 0, 0, 1, 115, 2, 111, 112, 97, 1]);
      expect(() => decodeEtf(atomKey)).toThrow(/atom map keys/);
    });

    it('throws DecodeError on bytes that are not ETF', () => {
      expect(() => etf.decode(Buffer.from([1, 2, 3]))).toThrow(DecodeError);
      expect(() => etf.decode('{"op":1}')).toThrow(DecodeError);
    });
  },
);

describeWithErlpack('Shard with encoding etf against the FakeGateway (GW-EN-2, GW-EN-4)', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });

  for (const compression of ['none', 'zlib-stream'] as const) {
    it(`identifies, heartbeats and receives dispatches with snowflakes as strings (${compression})`, async () => {
      h = await harness(
        { encodings: { etf: etfEncoder }, heartbeatIntervalMs: 100 },
        { encoding: 'etf', compression, intents: ['Guilds', 'GuildMessages', 'MessageContent'] },
      );
      await h.shard.connect();
      const connection = h.gw.connections[0];
      expect(connection.record.encoding).toBe('etf');
      expect(connection.record.query).toContain('encoding=etf');
      const guild = h.gw.traffic.guilds[0];
      const sent = h.gw.traffic.messageCreate(guild, 'hello etf') as { id: string };
      h.gw.dispatch('MESSAGE_CREATE', sent);
      await until(() => h!.data('MESSAGE_CREATE').length === 1);
      const received = h.data('MESSAGE_CREATE')[0];
      expect(received).toEqual(JSON.parse(JSON.stringify(sent)));
      expect(typeof received.id).toBe('string');
      expect(received.guild_id).toBe(guild.id);
      // Heartbeats in ETF are understood and acknowledged: no violation, latency measured.
      await until(() => connection.record.acks >= 2, 5_000, 'two heartbeat ACKs');
      expect(h.gw.record.violations).toEqual([]);
      expect(h.logs.text()).toContain('decoding with erlpack (etf)');
    });
  }

  it('sends commands as ETF to a default FakeGateway (etf is built in; op 3 reaches it decoded)', async () => {
    h = await harness({}, { encoding: 'etf' });
    await h.shard.connect();
    await h.shard.updatePresence({ status: 'idle', activities: [], afk: false, since: null });
    const connection = h.gw.connections[0];
    await until(() => connection.record.received.some((p) => p.op === 3));
    expect(connection.record.received.find((p) => p.op === 3)?.d).toMatchObject({
      status: 'idle',
    });
  });
});

describe('encoding etf without erlpack', () => {
  it('is a ConfigError at construction that names erlpack; JSON still works', async () => {
    jest.resetModules();
    jest.doMock(
      'erlpack',
      () => {
        throw new Error("Cannot find module 'erlpack'");
      },
      { virtual: true },
    );
    try {
      const { Shard } = await import('../../../lib/gateway/shard/shard.js');
      const { ConfigError } = await import('../../../lib/gateway/errors/errors.js');
      expect(() => new Shard({ token: 'abc', intents: 1, encoding: 'etf' })).toThrow(ConfigError);
      expect(() => new Shard({ token: 'abc', intents: 1, encoding: 'etf' })).toThrow(/erlpack/);
      expect(new Shard({ token: 'abc', intents: 1, encoding: 'json' }).id).toBe(0);
    } finally {
      jest.dontMock('erlpack');
      jest.resetModules();
    }
  });
});
