import { isUtf8 } from 'node:buffer';
import { inspect } from 'node:util';
import { DecodeError } from '../../../lib/gateway/errors/errors.js';
import { decodeJson, jsonEncoding } from '../../../lib/gateway/codec/index.js';

const MARKER = 'MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs';

function decodeError(message: Buffer | string): DecodeError {
  try {
    decodeJson(message);
  } catch (error) {
    return error as DecodeError;
  }
  throw new Error('decodeJson did not throw');
}

describe('decodeJson (GW-EN-1)', () => {
  it('GW-EN-1: decodes UTF-8 bytes and strings alike, non-ASCII content included', () => {
    const payload = { t: 'MESSAGE_CREATE', s: 3, op: 0, d: { content: 'héllo ✓ 😀' } };
    const text = JSON.stringify(payload);
    expect(decodeJson(Buffer.from(text, 'utf8'))).toEqual(payload);
    expect(decodeJson(text)).toEqual(payload);
  });

  it('GW-EN-1: a real U+FFFD in valid UTF-8 is content, not a decoding error', () => {
    const payload = { t: 'MESSAGE_CREATE', s: 4, op: 0, d: { content: 'broken \uFFFD glyph é' } };
    expect(decodeJson(Buffer.from(JSON.stringify(payload), 'utf8'))).toEqual(payload);
  });

  it('GW-ENV-2: accepts the bare {"op":11} ACK', () => {
    expect(decodeJson(Buffer.from('{"op":11}'))).toEqual({ op: 11 });
  });

  it.each([
    [
      'a lone continuation byte',
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d]),
    ],
    [
      'a truncated 3-byte sequence',
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xe2, 0x9c]), Buffer.from('"}')]),
    ],
    [
      'an overlong encoding',
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
    ],
    [
      'an invalid byte next to a real U+FFFD',
      Buffer.concat([Buffer.from('{"a":"\uFFFD'), Buffer.from([0xff]), Buffer.from('"}')]),
    ],
    [
      'a 4-byte sequence above U+10FFFF',
      Buffer.concat([
        Buffer.from('{"a":"'),
        Buffer.from([0xf4, 0x90, 0x80, 0x80]),
        Buffer.from('"}'),
      ]),
    ],
    [
      'an encoded surrogate',
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
    ],
  ])('invalid UTF-8 (%s) is a DecodeError, not silently replaced', (_case, bytes) => {
    const error = decodeError(bytes);
    expect(error).toBeInstanceOf(DecodeError);
    expect(error.code).toBe('DECODE_FAILED');
    expect(error.message).toMatch(/not valid UTF-8/);
  });

  it('rejects exactly the bytes that are not valid UTF-8 (3,000 seeded random strings)', () => {
    let state = 17;
    const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 8;
    // Mostly valid multi-byte text with random bytes spliced in, so both verdicts occur often.
    const pieces = ['a', 'é', '✓', '😀', '\uFFFD', '"', '\\'].map((p) =>
      Buffer.from(JSON.stringify(p).slice(1, -1)),
    );
    let invalid = 0;
    const mismatches: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      const parts: Buffer[] = [Buffer.from('{"a":"')];
      for (let j = next() % 12; j > 0; j--) {
        parts.push(
          next() % 4 === 0 ? Buffer.from([next() & 0xff]) : pieces[next() % pieces.length],
        );
      }
      parts.push(Buffer.from('"}'));
      const bytes = Buffer.concat(parts);
      let utf8Error = false;
      try {
        decodeJson(bytes);
      } catch (error) {
        utf8Error = /not valid UTF-8/.test((error as Error).message);
      }
      if (utf8Error === isUtf8(bytes)) mismatches.push(bytes.toString('hex'));
      if (utf8Error) invalid++;
    }
    expect(mismatches).toEqual([]);
    expect(invalid).toBeGreaterThan(300);
    expect(invalid).toBeLessThan(2_700);
  });

  it.each([
    ['truncated', `{"op":2,"d":{"token":"${MARKER}"`],
    ['a trailing comma', `{"op":2,"d":{"token":"${MARKER}"},}`],
    ['not JSON at all', `token ${MARKER}`],
    ['empty', ''],
  ])('bad JSON (%s) is a DecodeError that never quotes the payload', (_case, text) => {
    for (const message of [text, Buffer.from(text)]) {
      const error = decodeError(message);
      expect(error).toBeInstanceOf(DecodeError);
      expect(error.message).toMatch(/not valid JSON/);
      const rendered = `${error.message} ${error.stack} ${inspect(error, { depth: 5 })} ${JSON.stringify(error)}`;
      expect(rendered).not.toContain(MARKER);
      expect(rendered).not.toContain('token');
    }
  });

  it('invalid UTF-8 errors never quote the payload either', () => {
    const bytes = Buffer.concat([
      Buffer.from(`{"token":"${MARKER}","x":"`),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ]);
    const error = decodeError(bytes);
    expect(`${error.message} ${inspect(error)}`).not.toContain(MARKER);
  });
});

describe('jsonEncoding (GW-EN-1)', () => {
  it('is named json and round-trips a payload', () => {
    expect(jsonEncoding.name).toBe('json');
    const payload = { op: 1, d: 251 };
    const encoded = jsonEncoding.encode(payload);
    expect(encoded).toBe('{"op":1,"d":251}');
    expect(jsonEncoding.decode(encoded)).toEqual(payload);
    expect(jsonEncoding.decode(Buffer.from(encoded as string))).toEqual(payload);
  });

  it('decode throws DecodeError like decodeJson', () => {
    expect(() => jsonEncoding.decode('{')).toThrow(DecodeError);
  });
});
