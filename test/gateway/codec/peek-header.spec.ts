import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { peekHeader, type PayloadHeader } from '../../../lib/gateway/codec/index.js';
import {
  describeWithFixtures,
  fixturesDir,
  loadFixture,
  readFixtureText,
} from '../../support/fixtures.js';

/** What JSON.parse says the header is, or null when the text is not a payload object with an integer op. */
function parsedHeader(text: string): PayloadHeader | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const payload = value as { op?: unknown; s?: unknown; t?: unknown };
  return {
    op: payload.op as number,
    s: (payload.s ?? null) as number | null,
    t: (payload.t ?? null) as string | null,
  };
}

/** peekHeader must give JSON.parse's answer or null, for the text and for its UTF-8 bytes. */
function expectNeverWrong(text: string): PayloadHeader | null {
  const fromString = peekHeader(text);
  const fromBytes = peekHeader(Buffer.from(text, 'utf8'));
  expect(fromBytes).toEqual(fromString);
  if (fromString !== null) {
    expect(fromString).toEqual(parsedHeader(text));
    expect(Number.isInteger(fromString.op)).toBe(true);
  }
  return fromString;
}

function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describeWithFixtures('peekHeader on the fixtures (GW-ENV-1, GW-ENV-2)', () => {
  const dir = fixturesDir()!;
  const files = [
    ...readdirSync(dir).filter((name) => name.endsWith('.json')),
    ...readdirSync(join(dir, 'wire')).map((name) => `wire/${name}`),
  ];

  it.each(files)('GW-ENV-1: %s reads exactly as JSON.parse reads it', (name) => {
    const text = readFixtureText(name);
    const header = expectNeverWrong(text);
    expect(header).toEqual(parsedHeader(text));
    // Re-serialized in Discord's own order and compact, as on the wire.
    const { op, d, s, t } = JSON.parse(text);
    expect(expectNeverWrong(JSON.stringify({ t, s, op, d }))).toEqual(parsedHeader(text));
  });

  it('GW-ENV-2: the bare {"op":11} ACK reads with s and t null', () => {
    expect(peekHeader(readFixtureText('HEARTBEAT_ACK.json'))).toEqual({ op: 11, s: null, t: null });
    expect(peekHeader(readFixtureText('wire/HEARTBEAT_ACK.wire.json'))).toEqual({
      op: 11,
      s: null,
      t: null,
    });
  });

  it('GW-ENV-1: every message inflated from the compression vectors reads as JSON.parse reads it', () => {
    for (const file of [
      'compression/zlib-stream.vectors.json',
      'compression/zstd-stream.vectors.json',
    ]) {
      for (const set of loadFixture(file).sets as { expected_messages: string[] }[]) {
        for (const message of set.expected_messages) {
          expect(expectNeverWrong(message)).toEqual(parsedHeader(message));
        }
      }
    }
  });
});

describe('peekHeader on adversarial input', () => {
  it.each([
    [
      'content quoting a header',
      '{"t":"MESSAGE_CREATE","s":5,"op":0,"d":{"content":"\\"op\\":1,\\"s\\":9,\\"t\\":\\"READY\\"}"}}',
    ],
    [
      'header keys nested inside d',
      '{"d":{"op":7,"s":3,"t":"X","d":{"op":9}},"op":0,"s":2,"t":"A"}',
    ],
    ['keys inside arrays', '{"op":0,"t":"A","s":1,"d":[{"op":1},"\\"t\\":\\"B\\"",["s",2]]}'],
    ['backslashes before a quote', '{"op":0,"t":"A","s":1,"d":{"c":"x\\\\","op":4}}'],
    ['braces inside strings', '{"op":0,"t":"A","s":1,"d":{"c":"}}}]]{","k":"{\\"op\\":3}"}}'],
    ['unicode content', '{"t":"A","s":1,"op":0,"d":{"c":"é✓😀\\u0022op\\u0022:5"}}'],
    ['whitespace everywhere', ' \n{ "t" : "A" ,\r\n"s"\t: 7 , "op" :0 , "d" : [ 1 , 2 ] } \n'],
    ['d before the header', '{"d":{"x":"}"},"t":"GUILD_CREATE","op":0,"s":3}'],
  ])('%s: reads the top level only', (_case, text) => {
    const header = expectNeverWrong(text);
    expect(header).not.toBeNull();
  });

  it.each([
    [
      'a duplicate op after d (last one wins in JSON.parse)',
      '{"t":"A","s":1,"op":0,"d":{},"op":1}',
      { op: 1, s: 1, t: 'A' },
    ],
    ['a duplicate t after d', '{"t":"A","s":1,"op":0,"d":null,"t":"B"}', { op: 0, s: 1, t: 'B' }],
    [
      'a duplicate s nulled after d',
      '{"t":"A","s":1,"op":0,"d":null,"s":null}',
      { op: 0, s: null, t: 'A' },
    ],
  ])('%s: gives the same answer as JSON.parse', (_case, text, expected) => {
    expect(expectNeverWrong(text)).toEqual(expected);
  });

  it.each([
    ['an escaped key spelling op', '{"t":null,"s":null,"\\u006fp":1,"d":null}'],
    ['an escaped key spelling t', '{"op":0,"s":1,"\\u0074":"A","d":null}'],
    ['an escaped t value', '{"t":"READ\\u0059","s":1,"op":0,"d":{}}'],
    ['a non-ASCII t value', '{"t":"RÉADY","s":1,"op":0,"d":{}}'],
    ['op as a fraction', '{"op":1.0,"d":null}'],
    ['op with an exponent', '{"op":1e0,"d":null}'],
    ['negative op', '{"op":-1,"d":null}'],
    ['negative zero', '{"op":-0,"d":null}'],
    ['an op too large to be exact', '{"op":12345678901234567890,"d":null}'],
    ['op as a string', '{"op":"0","d":null}'],
    ['op null', '{"op":null,"d":null}'],
    ['t as a number', '{"t":5,"s":1,"op":0,"d":null}'],
    ['s as a string', '{"t":"A","s":"1","op":0,"d":null}'],
    ['no op at all', '{"t":"A","s":1,"d":{"op":0}}'],
    ['an empty object', '{}'],
    ['an array', '[{"op":0}]'],
    ['a string', '"{\\"op\\":0}"'],
    ['a number', '0'],
    ['truncated JSON', '{"t":"A","s":1,"op":0,"d":{"x":'],
    ['an unterminated string in d', '{"op":0,"d":"abc'],
    ['trailing garbage', '{"op":0,"d":null}x'],
    ['two objects', '{"op":0,"d":null}{"op":1}'],
    ['an empty input', ''],
    ['a missing colon', '{"op" 0}'],
  ])('%s: null (the caller parses fully)', (_case, text) => {
    expect(peekHeader(text)).toBeNull();
    expect(peekHeader(Buffer.from(text))).toBeNull();
  });
});

describe('peekHeader fuzzed against JSON.parse', () => {
  const rng = random(20240806);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)];
  const tricky = [
    '\\"op\\":1',
    '\\"t\\":\\"READY\\"',
    '{',
    '}',
    '[',
    ']',
    '\\\\',
    '\\"',
    ',\\"s\\":',
    'é',
    '😀',
    '\\u0022',
    ' ',
    '\\n',
    'op',
    't',
    's',
    'd',
  ];
  const space = (): string => (rng() < 0.7 ? '' : pick([' ', '\n', '\t', '\r\n', '  ']));

  function randomString(): string {
    let content = '';
    const parts = Math.floor(rng() * 6);
    for (let i = 0; i < parts; i++)
      content += rng() < 0.5 ? pick(tricky) : Math.floor(rng() * 1e6).toString(36);
    return `"${content}"`;
  }
  function randomValue(depth: number): string {
    const roll = rng();
    if (depth > 3 || roll < 0.3)
      return pick(['null', 'true', 'false', '0', '-12.5e3', '42', randomString()]);
    if (roll < 0.5) return randomString();
    const count = Math.floor(rng() * 4);
    if (roll < 0.75) {
      const items = Array.from({ length: count }, () => space() + randomValue(depth + 1) + space());
      return `[${items.join(',')}]`;
    }
    const members = Array.from(
      { length: count },
      () =>
        `${space()}${rng() < 0.3 ? pick(['"op"', '"s"', '"t"', '"d"']) : randomString()}${space()}:${space()}${randomValue(depth + 1)}`,
    );
    return `{${members.join(',')}}`;
  }
  function randomPayload(): string {
    const members: string[] = [
      `"op":${space()}${pick(['0', '1', '7', '9', '10', '11'])}`,
      `"s":${space()}${pick(['null', '1', '42', '99999'])}`,
      `"t":${space()}${pick(['null', '"READY"', '"MESSAGE_CREATE"', '"GUILD_CREATE"'])}`,
      `"d":${space()}${randomValue(0)}`,
    ];
    // Shuffle, sometimes drop s/t, sometimes add a duplicate or a stranger.
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [members[i], members[j]] = [members[j], members[i]];
    }
    const kept = members.filter(
      (member) => member.startsWith('"op"') || member.startsWith('"d"') || rng() < 0.8,
    );
    if (rng() < 0.15) kept.push(`"${pick(['op', 's', 't'])}":${randomValue(2)}`);
    if (rng() < 0.15) kept.splice(Math.floor(rng() * kept.length), 0, `"_trace":${randomValue(1)}`);
    return `${space()}{${space()}${kept.map((member) => member + space()).join(',' + space())}}${space()}`;
  }

  it('GW-ENV-1: 5,000 random payloads (any key order, duplicates, tricky strings) are never read wrong', () => {
    let certain = 0;
    for (let i = 0; i < 5_000; i++) {
      const text = randomPayload();
      expect(() => JSON.parse(text)).not.toThrow();
      if (expectNeverWrong(text) !== null) certain++;
    }
    // Most are plain payloads and must take the fast path.
    expect(certain).toBeGreaterThan(4_000);
  });

  it("GW-ENV-1: 5,000 payloads in Discord's compact order (the fast path) read as JSON.parse reads them, duplicates after d included", () => {
    let certain = 0;
    for (let i = 0; i < 5_000; i++) {
      const t = pick(['"READY"', '"MESSAGE_CREATE"', '"GUILD_CREATE"', '"A_1"', 'null', '"é"']);
      const s = pick(['1', '42', '0', '99999', 'null', '012', '1.5']);
      const op = pick(['0', '0', '0', '11', '-1']);
      const d = rng() < 0.5 ? randomValue(1) : `{${randomString()}:${randomValue(1)}}`;
      const tail =
        rng() < 0.8
          ? ''
          : pick([`,"t":${randomString()}`, ',"s":7', ',"op":1', ',"x":1', ' ', '\n']);
      const text = `{"t":${t},"s":${s},"op":${op},"d":${d}${tail}}`;
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      if (!valid) {
        expect(() => [peekHeader(text), peekHeader(Buffer.from(text))]).not.toThrow();
        continue;
      }
      if (expectNeverWrong(text) !== null) certain++;
    }
    expect(certain).toBeGreaterThan(2_000);
  });

  it('GW-ENV-1: 5,000 random single-character mutations: never wrong when still JSON, never a throw when not', () => {
    const base = [
      '{"t":"MESSAGE_CREATE","s":12,"op":0,"d":{"content":"hi \\"op\\":1","id":"1","n":[1,{"a":null}]}}',
      '{"op":11}',
      '{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":41250,"_trace":["[\\"gateway-prd\\"]"]}}',
    ];
    const alphabet = [
      '"',
      '\\',
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      ' ',
      '0',
      '1',
      'n',
      'u',
      'l',
      't',
      's',
      'o',
      'p',
      'é',
      '-',
      '.',
      'e',
    ];
    for (let i = 0; i < 5_000; i++) {
      const source = pick(base);
      const at = Math.floor(rng() * source.length);
      const roll = rng();
      const text =
        roll < 0.4
          ? source.slice(0, at) + pick(alphabet) + source.slice(at)
          : roll < 0.7
            ? source.slice(0, at) + source.slice(at + 1)
            : source.slice(0, at) + pick(alphabet) + source.slice(at + 1);
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      if (valid) expectNeverWrong(text);
      else expect(() => [peekHeader(text), peekHeader(Buffer.from(text))]).not.toThrow();
    }
  });
});
