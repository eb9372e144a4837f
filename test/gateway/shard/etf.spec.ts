import { deflateSync } from 'node:zlib';
import { decodeEtf, encodeEtf, etfEncoder } from '../../../lib/testing/etf-encoding.js';
import { createEtfEncoding } from '../../../lib/gateway/codec/etf-encoding.js';
import { DecodeError } from '../../../lib/gateway/errors/errors.js';
import { harness, until, type Harness } from './helpers.js';

describe('the client ETF encoding against the FakeGateway encoder (GW-EN-2, GW-GT-16)', () => {
  const etf = createEtfEncoding();

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
});

describe('Shard with encoding etf against the FakeGateway (GW-EN-2, GW-EN-4)', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });

  for (const compression of ['none', 'zlib-stream'] as const) {
    it(`identifies, heartbeats and receives dispatches with snowflakes as strings (${compression})`, async () => {
      h = await harness(
        { encodings: { etf: etfEncoder }, heartbeatIntervalMs: 100 },
        {
          encoding: 'etf',
          compression,
          intents: ['Guilds', 'GuildMessages', 'MessageContent'],
          limits: { commandWindowMs: 146 },
        },
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

/** ETF bytes: the version byte, then `body`. */
const etfBytes = (...body: (number | Buffer)[]): Buffer =>
  Buffer.concat([
    Buffer.from([131]),
    ...body.map((b) => (typeof b === 'number' ? Buffer.from([b]) : b)),
  ]);

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

describe('the client ETF decoder against hostile input', () => {
  const etf = createEtfEncoding({ maxInflatedBytes: 1024 * 1024 });

  it('300 KB of nested lists (a native stack overflow for erlpack) is a DecodeError, in milliseconds', () => {
    const depth = 60_000;
    const nested = Buffer.concat([
      Buffer.alloc(depth * 5, 0),
      Buffer.from([106]),
      Buffer.alloc(depth, 106),
    ]);
    for (let i = 0; i < depth; i++) {
      nested[i * 5] = 108; // LIST_EXT, length 1
      nested.writeUInt32BE(1, i * 5 + 1);
    }
    const started = performance.now();
    expect(() => etf.decode(etfBytes(nested))).toThrow(/nests deeper than 100/);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('a compressed term (tag 80) declaring more than maxInflatedBytes is refused before inflating', () => {
    const inner = Buffer.concat([Buffer.from([109]), u32(600_000), Buffer.alloc(600_000, 0x61)]);
    const bomb = etfBytes(80, u32(64 * 1024 * 1024), deflateSync(inner));
    expect(() => etf.decode(bomb)).toThrow(/over limits.maxInflatedBytes/);
  });

  it('a compressed term that inflates past the size it declares is refused, not inflated', () => {
    const inner = Buffer.concat([Buffer.from([109]), u32(600_000), Buffer.alloc(600_000, 0x61)]);
    const lying = etfBytes(80, u32(100), deflateSync(inner));
    expect(() => etf.decode(lying)).toThrow(DecodeError);
  });

  it('a compressed term within the limits decodes like the plain one', () => {
    const inner = encodeEtf({ op: 0, t: 'MESSAGE_CREATE', s: 3, d: { content: 'x'.repeat(500) } });
    const compressed = etfBytes(80, u32(inner.length - 1), deflateSync(inner.subarray(1)));
    expect(etf.decode(compressed)).toEqual(etf.decode(inner));
  });

  it.each([
    ['a list length past the end', etfBytes(108, u32(0xffffffff), 106)],
    ['a map length past the end', etfBytes(116, u32(0x7fffffff))],
    ['a binary length past the end', etfBytes(109, u32(1_000_000), 0x61)],
    ['a list without its nil tail', etfBytes(108, u32(1), 97, 1, 97, 2)],
    ['bytes after the term', etfBytes(97, 1, 97, 2)],
    ['an integer wider than 64 bits', etfBytes(111, u32(9), 0, Buffer.alloc(9, 1))],
    ['a pid', etfBytes(103, 115, 1, 0x61, u32(1), u32(1), 0)],
    ['a map with a list as a key', etfBytes(116, u32(1), 106, 97, 1)],
    ['no version byte', Buffer.from([97, 1])],
    ['nothing at all', Buffer.alloc(0)],
  ])('%s is a DecodeError', (_name, bytes) => {
    expect(() => etf.decode(bytes)).toThrow(DecodeError);
  });

  it('a __proto__ key becomes an own property, as in JSON.parse, never the prototype', () => {
    const key = Buffer.from('__proto__');
    const payload = etfBytes(
      116,
      u32(1),
      109,
      u32(key.length),
      key,
      116,
      u32(1),
      109,
      u32(1),
      Buffer.from('x'),
      97,
      1,
    );
    const decoded = etf.decode(payload) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(['__proto__']);
    expect(decoded).toEqual(JSON.parse('{"__proto__":{"x":1}}'));
  });

  it('integers: 32-bit ones as numbers, wider ones as decimal strings, signs kept', () => {
    const big = (negative: boolean, bytes: number[]) =>
      etfBytes(110, bytes.length, negative ? 1 : 0, Buffer.from(bytes));
    expect(etf.decode(big(false, [0xff, 0xff, 0xff, 0xff]))).toBe(4294967295);
    expect(etf.decode(big(true, [0xff, 0xff, 0xff, 0x7f]))).toBe(-2147483647);
    expect(etf.decode(big(true, [0, 0, 0, 0x80]))).toBe('-2147483648');
    expect(etf.decode(big(false, [0, 0, 0, 0, 1]))).toBe('4294967296');
    expect(etf.decode(etfBytes(98, Buffer.from([0xff, 0xff, 0xff, 0xfe])))).toBe(-2);
  });

  it('atoms: nil, null, true, false and others, in every atom form', () => {
    const forms = (name: string) => [
      etfBytes(100, 0, name.length, Buffer.from(name)),
      etfBytes(115, name.length, Buffer.from(name)),
      etfBytes(118, 0, name.length, Buffer.from(name)),
      etfBytes(119, name.length, Buffer.from(name)),
    ];
    for (const [name, value] of [
      ['nil', null],
      ['null', null],
      ['true', true],
      ['false', false],
      ['online', 'online'],
    ] as const)
      for (const bytes of forms(name)) expect(etf.decode(bytes)).toBe(value);
  });
});

describe('the client ETF encoder', () => {
  const etf = createEtfEncoding();

  it('writes what JSON would: undefined and functions left out of objects, null in lists; toJSON used', () => {
    const payload = {
      op: 3,
      d: {
        since: 1_700_000_000_000,
        afk: false,
        status: 'idle',
        gone: undefined,
        fn: () => 1,
        list: [undefined, Number.NaN, -5, 300, 2.5],
        when: new Date(0),
      },
    };
    expect(decodeEtf(etf.encode(payload) as Buffer)).toEqual(JSON.parse(JSON.stringify(payload)));
  });

  it('refuses what JSON refuses: a bigint, and a cycle', () => {
    expect(() => etf.encode({ op: 1, d: 1n })).toThrow(TypeError);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => etf.encode({ op: 1, d: cycle })).toThrow(TypeError);
  });
});
