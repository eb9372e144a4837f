import type { PayloadEncoder } from './encoding.js';

/**
 * `encoding=etf` for the FakeGateway (GW-EN-2, GW-GT-16): Erlang External Term
 * Format, written and read here in plain TypeScript (no native addon, and no code shared with
 * the client's own ETF reader and writer).
 *
 * Server payloads are encoded as Discord does: maps with binary keys, strings as binaries,
 * `null`/booleans as the (latin1) atoms `nil`/`true`/`false`, and every snowflake-looking string
 * (15-20 digits, below 2^64) as a 64-bit integer (SMALL_BIG_EXT), so a client must normalize
 * them (GW-GT-16). Map keys stay binaries even when they look like snowflakes (the
 * inconsistency discord-api-docs#3657 reports for `resolved`).
 *
 * Client messages are decoded strictly: a map key that is an atom is refused (Discord answers
 * 4002, GW-EN-2), as is anything malformed or with trailing bytes.
 *
 * Built into every FakeGateway (`encoding=etf`); exported for tests that decode ETF themselves.
 */
export const etfEncoder: PayloadEncoder = {
  name: 'etf',
  encode: (payload) => encodeEtf(payload),
  decode: (data) => decodeEtf(data),
};

const VERSION = 131;
const NEW_FLOAT_EXT = 70;
const SMALL_INTEGER_EXT = 97;
const INTEGER_EXT = 98;
const ATOM_EXT = 100;
const SMALL_TUPLE_EXT = 104;
const NIL_EXT = 106;
const STRING_EXT = 107;
const LIST_EXT = 108;
const BINARY_EXT = 109;
const SMALL_BIG_EXT = 110;
const SMALL_ATOM_EXT = 115;
const MAP_EXT = 116;
const ATOM_UTF8_EXT = 118;
const SMALL_ATOM_UTF8_EXT = 119;

const SNOWFLAKE = /^[1-9]\d{14,19}$/;
const MAX_U64 = (1n << 64n) - 1n;

/** Encodes one payload as ETF (version byte first). */
export function encodeEtf(value: unknown): Buffer {
  const writer = new Writer();
  writer.u8(VERSION);
  writer.term(value, 0);
  return writer.result();
}

/**
 * Decodes one ETF message into plain values: binaries and strings to strings, integers to
 * numbers (64-bit ones beyond 2^53 to decimal strings), `nil`/`null` to null.
 *
 * @throws Error on malformed input, trailing bytes, or an atom used as a map key.
 */
export function decodeEtf(data: Buffer): unknown {
  const reader = new Reader(data);
  if (reader.u8() !== VERSION) throw new Error('ETF: bad version byte');
  const value = reader.term(0);
  if (reader.offset !== data.length) throw new Error('ETF: trailing bytes');
  return value;
}

const MAX_DEPTH = 64;

class Writer {
  private buffer = Buffer.allocUnsafe(1024);
  private length = 0;

  result(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  u32(value: number): void {
    this.reserve(4);
    this.buffer.writeUInt32BE(value, this.length);
    this.length += 4;
  }

  term(value: unknown, depth: number): void {
    if (depth > MAX_DEPTH) throw new Error('ETF: nesting too deep');
    if (value === null || value === undefined) return this.atom('nil');
    switch (typeof value) {
      case 'boolean':
        return this.atom(value ? 'true' : 'false');
      case 'number':
        return this.number(value);
      case 'bigint':
        return this.bigint(value);
      case 'string':
        return SNOWFLAKE.test(value) && BigInt(value) <= MAX_U64
          ? this.bigint(BigInt(value))
          : this.binary(value);
      case 'object': {
        if (Array.isArray(value)) {
          if (value.length === 0) return this.u8(NIL_EXT);
          this.u8(LIST_EXT);
          this.u32(value.length);
          for (const item of value) this.term(item, depth + 1);
          return this.u8(NIL_EXT);
        }
        const entries = Object.entries(value as Record<string, unknown>).filter(
          ([, v]) => v !== undefined,
        );
        this.u8(MAP_EXT);
        this.u32(entries.length);
        for (const [key, item] of entries) {
          this.binary(key);
          this.term(item, depth + 1);
        }
        return;
      }
      default:
        throw new Error(`ETF: cannot encode a ${typeof value}`);
    }
  }

  private number(value: number): void {
    if (Number.isInteger(value) && value >= 0 && value <= 255) {
      this.u8(SMALL_INTEGER_EXT);
      return this.u8(value);
    }
    if (Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) {
      this.u8(INTEGER_EXT);
      this.reserve(4);
      this.buffer.writeInt32BE(value, this.length);
      this.length += 4;
      return;
    }
    if (Number.isSafeInteger(value)) return this.bigint(BigInt(value));
    this.u8(NEW_FLOAT_EXT);
    this.reserve(8);
    this.buffer.writeDoubleBE(value, this.length);
    this.length += 8;
  }

  private bigint(value: bigint): void {
    const sign = value < 0n ? 1 : 0;
    let magnitude = sign ? -value : value;
    const digits: number[] = [];
    while (magnitude > 0n) {
      digits.push(Number(magnitude & 0xffn));
      magnitude >>= 8n;
    }
    if (digits.length > 255) throw new Error('ETF: integer too large');
    this.u8(SMALL_BIG_EXT);
    this.u8(digits.length);
    this.u8(sign);
    for (const digit of digits) this.u8(digit);
  }

  private binary(text: string): void {
    const bytes = Buffer.byteLength(text);
    this.u8(BINARY_EXT);
    this.u32(bytes);
    this.reserve(bytes);
    this.length += this.buffer.write(text, this.length, 'utf8');
  }

  /** SMALL_ATOM_EXT (latin1), which every ETF reader knows (some readers lack SMALL_ATOM_UTF8_EXT). */
  private atom(name: string): void {
    this.u8(SMALL_ATOM_EXT);
    this.u8(name.length);
    this.reserve(name.length);
    this.length += this.buffer.write(name, this.length, 'latin1');
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

const ATOM = Symbol('atom');

interface Atom {
  readonly [ATOM]: string;
}

class Reader {
  offset = 0;

  constructor(private readonly data: Buffer) {}

  u8(): number {
    this.need(1);
    return this.data[this.offset++];
  }

  u16(): number {
    this.need(2);
    const value = this.data.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  term(depth: number): unknown {
    const value = this.raw(depth);
    return isAtom(value) ? atomValue(value) : value;
  }

  private raw(depth: number): unknown {
    if (depth > MAX_DEPTH) throw new Error('ETF: nesting too deep');
    const tag = this.u8();
    switch (tag) {
      case SMALL_INTEGER_EXT:
        return this.u8();
      case INTEGER_EXT: {
        this.need(4);
        const value = this.data.readInt32BE(this.offset);
        this.offset += 4;
        return value;
      }
      case NEW_FLOAT_EXT: {
        this.need(8);
        const value = this.data.readDoubleBE(this.offset);
        this.offset += 8;
        return value;
      }
      case SMALL_BIG_EXT: {
        const count = this.u8();
        const sign = this.u8();
        let value = 0n;
        for (let i = 0; i < count; i++) value |= BigInt(this.u8()) << BigInt(8 * i);
        if (sign) value = -value;
        return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(value)
          : value.toString();
      }
      case ATOM_EXT:
      case ATOM_UTF8_EXT:
        return this.atom(this.u16());
      case SMALL_ATOM_EXT:
      case SMALL_ATOM_UTF8_EXT:
        return this.atom(this.u8());
      case BINARY_EXT:
        return this.text(this.u32());
      case STRING_EXT: {
        const length = this.u16();
        this.need(length);
        const list = [...this.data.subarray(this.offset, this.offset + length)];
        this.offset += length;
        return list;
      }
      case NIL_EXT:
        return [];
      case LIST_EXT: {
        const length = this.u32();
        const list: unknown[] = [];
        for (let i = 0; i < length; i++) list.push(this.term(depth + 1));
        if (this.u8() !== NIL_EXT) throw new Error('ETF: improper list');
        return list;
      }
      case SMALL_TUPLE_EXT: {
        const arity = this.u8();
        const tuple: unknown[] = [];
        for (let i = 0; i < arity; i++) tuple.push(this.term(depth + 1));
        return tuple;
      }
      case MAP_EXT: {
        const arity = this.u32();
        const map: Record<string, unknown> = {};
        for (let i = 0; i < arity; i++) {
          const key = this.raw(depth + 1);
          if (isAtom(key)) throw new Error('ETF: atom map keys are not accepted (4002)');
          if (typeof key !== 'string' && typeof key !== 'number')
            throw new Error('ETF: map keys must be binaries');
          map[String(key)] = this.term(depth + 1);
        }
        return map;
      }
      default:
        throw new Error(`ETF: unsupported tag ${tag}`);
    }
  }

  private atom(length: number): Atom {
    return { [ATOM]: this.text(length) };
  }

  private text(length: number): string {
    this.need(length);
    const value = this.data.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  private need(bytes: number): void {
    if (this.offset + bytes > this.data.length) throw new Error('ETF: truncated');
  }
}

function isAtom(value: unknown): value is Atom {
  return typeof value === 'object' && value !== null && ATOM in value;
}

function atomValue(atom: Atom): unknown {
  switch (atom[ATOM]) {
    case 'nil':
    case 'null':
      return null;
    case 'true':
      return true;
    case 'false':
      return false;
    default:
      return atom[ATOM];
  }
}
