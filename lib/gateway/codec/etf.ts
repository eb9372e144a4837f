import { inflateSync } from 'node:zlib';
import { DecodeError } from '../errors/errors.js';

/*
 * Erlang External Term Format, the subset Discord's gateway speaks (GW-EN-2), read and written
 * in TypeScript. Reading is bounded: nesting depth, the bytes a compressed term may inflate to,
 * and every length field against the bytes actually left, so no input can make it allocate
 * more than a small multiple of the message or recurse past its depth limit.
 */

const VERSION = 131;
const COMPRESSED = 80;
const NEW_FLOAT_EXT = 70;
const SMALL_INTEGER_EXT = 97;
const INTEGER_EXT = 98;
const FLOAT_EXT = 99;
const ATOM_EXT = 100;
const SMALL_TUPLE_EXT = 104;
const LARGE_TUPLE_EXT = 105;
const NIL_EXT = 106;
const STRING_EXT = 107;
const LIST_EXT = 108;
const BINARY_EXT = 109;
const SMALL_BIG_EXT = 110;
const LARGE_BIG_EXT = 111;
const SMALL_ATOM_EXT = 115;
const MAP_EXT = 116;
const ATOM_UTF8_EXT = 118;
const SMALL_ATOM_UTF8_EXT = 119;

/** Bounds on what one ETF message may make the decoder do. */
export interface EtfLimits {
  /**
   * Deepest nesting of lists, tuples and maps. Discord's payloads nest about 10 deep; the
   * default, 100, leaves a wide margin and keeps the recursion far from the stack's end.
   */
  readonly maxDepth?: number;
  /**
   * Most bytes the compressed terms (tag 80) of one message may inflate to, together. Default
   * 64 MiB; the shard passes `limits.maxInflatedBytes`.
   */
  readonly maxInflatedBytes?: number;
}

/**
 * Decodes one ETF message (version byte first) into the values the JSON encoding gives:
 *
 * - binaries to strings (UTF-8), atoms `nil`/`null` to `null`, `true`/`false` to booleans,
 *   other atoms to strings, maps to objects (keys as strings), lists and tuples to arrays;
 * - integers to numbers when they fit 32 bits, wider ones (snowflakes, GW-GT-16) to their
 *   decimal string; integers wider than 64 bits are refused;
 * - a compressed term is inflated within `maxInflatedBytes`.
 *
 * @throws DecodeError on malformed input, trailing bytes, an unsupported term (pid, port,
 *   reference, fun), nesting over `maxDepth`, or compressed terms over `maxInflatedBytes`.
 *   Messages never quote the input.
 */
export function decodeEtf(data: Buffer, limits: EtfLimits = {}): unknown {
  const reader = new Reader(
    data,
    limits.maxDepth ?? 100,
    limits.maxInflatedBytes ?? 64 * 1024 * 1024,
  );
  if (data.length === 0 || data[0] !== VERSION) {
    throw new DecodeError(`Gateway message is not ETF (${data.length} bytes, no version byte)`);
  }
  reader.offset = 1;
  const value = reader.term(0);
  if (reader.offset !== data.length) {
    throw new DecodeError(`ETF message has ${data.length - reader.offset} bytes after its term`);
  }
  return value;
}

class Reader {
  offset = 0;
  /** Bytes compressed terms may still inflate to (shared by nested readers). */
  inflateBudget: { left: number };

  constructor(
    private readonly data: Buffer,
    private readonly maxDepth: number,
    maxInflatedBytes: number | { left: number },
  ) {
    this.inflateBudget =
      typeof maxInflatedBytes === 'number' ? { left: maxInflatedBytes } : maxInflatedBytes;
  }

  term(depth: number): unknown {
    const tag = this.u8();
    switch (tag) {
      case SMALL_INTEGER_EXT:
        return this.u8();
      case INTEGER_EXT:
        return this.data.readInt32BE(this.skip(4));
      case NEW_FLOAT_EXT:
        return this.data.readDoubleBE(this.skip(8));
      case FLOAT_EXT:
        return this.oldFloat();
      case ATOM_EXT:
      case ATOM_UTF8_EXT:
        return atom(this.text(this.u16(), tag === ATOM_EXT ? 'latin1' : 'utf8'));
      case SMALL_ATOM_EXT:
      case SMALL_ATOM_UTF8_EXT:
        return atom(this.text(this.u8(), tag === SMALL_ATOM_EXT ? 'latin1' : 'utf8'));
      case BINARY_EXT:
        return this.text(this.u32(), 'utf8');
      case STRING_EXT:
        // A list of bytes, as Erlang writes short integer lists.
        return [...this.take(this.u16())];
      case NIL_EXT:
        return [];
      case SMALL_TUPLE_EXT:
        return this.array(this.u8(), depth);
      case LARGE_TUPLE_EXT:
        return this.array(this.u32(), depth);
      case LIST_EXT: {
        const items = this.array(this.u32(), depth);
        if (this.u8() !== NIL_EXT) throw new DecodeError('ETF list does not end with nil');
        return items;
      }
      case MAP_EXT:
        return this.map(this.u32(), depth);
      case SMALL_BIG_EXT:
        return this.big(this.u8());
      case LARGE_BIG_EXT:
        return this.big(this.u32());
      case COMPRESSED:
        return this.compressed(depth);
      default:
        throw new DecodeError(`ETF term type ${tag} is not supported`);
    }
  }

  private array(length: number, depth: number): unknown[] {
    this.enter(depth, length);
    const items = new Array<unknown>(length);
    for (let i = 0; i < length; i++) items[i] = this.term(depth + 1);
    return items;
  }

  private map(pairs: number, depth: number): Record<string, unknown> {
    this.enter(depth, pairs * 2);
    const object: Record<string, unknown> = {};
    for (let i = 0; i < pairs; i++) {
      const key = this.term(depth + 1);
      if (typeof key === 'object' && key !== null) {
        throw new DecodeError('ETF map key is a list, tuple or map');
      }
      const name = String(key);
      const value = this.term(depth + 1);
      // As JSON.parse does: an own property, never a prototype change.
      if (name === '__proto__') {
        Object.defineProperty(object, name, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        object[name] = value;
      }
    }
    return object;
  }

  /** Checks the nesting depth, and that `terms` terms (1 byte each at least) can still follow. */
  private enter(depth: number, terms: number): void {
    if (depth >= this.maxDepth) {
      throw new DecodeError(`ETF message nests deeper than ${this.maxDepth} levels`);
    }
    if (terms > this.data.length - this.offset) {
      throw new DecodeError('ETF length field runs past the end of the message');
    }
  }

  /** An integer of `digits` little-endian bytes, as erlpack gives it: 32-bit as a number, wider as a decimal string. */
  private big(digits: number): number | string {
    const negative = this.u8() !== 0;
    if (digits > 8) throw new DecodeError('ETF integer wider than 64 bits');
    const bytes = this.take(digits);
    let value = 0n;
    for (let i = digits - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
    if (digits <= 4) {
      if (!negative) return Number(value);
      if (value < 0x80000000n) return -Number(value);
    }
    return negative ? `-${value}` : String(value);
  }

  /** Tag 80: a zlib stream holding one term, inflated within the message's budget. */
  private compressed(depth: number): unknown {
    const size = this.u32();
    if (size > this.inflateBudget.left) {
      throw new DecodeError(
        `ETF compressed term would inflate to ${size} bytes, over limits.maxInflatedBytes`,
      );
    }
    const source = this.data.subarray(this.offset);
    let inflated: Buffer;
    try {
      inflated = inflateSync(source, { maxOutputLength: Math.max(1, size) });
    } catch {
      throw new DecodeError('ETF compressed term is corrupt or larger than it declares');
    }
    if (inflated.length !== size) {
      throw new DecodeError('ETF compressed term is not the size it declares');
    }
    this.inflateBudget.left -= size;
    // The compressed term runs to the end of the message.
    this.offset = this.data.length;
    const inner = new Reader(inflated, this.maxDepth, this.inflateBudget);
    const value = inner.term(depth);
    if (inner.offset !== inflated.length) {
      throw new DecodeError('ETF compressed term has bytes after its term');
    }
    return value;
  }

  private oldFloat(): number {
    const text = this.take(31).toString('latin1').replace(/\0+$/, '');
    const value = Number.parseFloat(text);
    if (Number.isNaN(value)) throw new DecodeError('ETF float is not a number');
    return value;
  }

  private u8(): number {
    if (this.offset >= this.data.length) throw truncated();
    return this.data[this.offset++];
  }

  private u16(): number {
    return this.data.readUInt16BE(this.skip(2));
  }

  private u32(): number {
    return this.data.readUInt32BE(this.skip(4));
  }

  private text(length: number, encoding: 'utf8' | 'latin1'): string {
    const start = this.skip(length);
    return this.data.toString(encoding, start, start + length);
  }

  private take(length: number): Buffer {
    const start = this.skip(length);
    return this.data.subarray(start, start + length);
  }

  /** Moves past `length` bytes that must be there; returns where they start. */
  private skip(length: number): number {
    const start = this.offset;
    if (start + length > this.data.length) throw truncated();
    this.offset = start + length;
    return start;
  }
}

function truncated(): DecodeError {
  return new DecodeError('ETF message ends inside a term');
}

function atom(name: string): string | boolean | null {
  switch (name) {
    case 'nil':
    case 'null':
      return null;
    case 'true':
      return true;
    case 'false':
      return false;
    default:
      return name;
  }
}

/**
 * Encodes one client payload as ETF, as Discord expects it: maps with binary keys (atom keys
 * are closed with 4002), strings as binaries, `null` and `undefined` in a list as the atom
 * `nil`, booleans as atoms, integers as the smallest integer term (wider than 32 bits as a
 * 64-bit big), other numbers as floats. Object properties that are `undefined` are left out, as
 * JSON leaves them out.
 *
 * Functions and symbols are treated as JSON treats them (left out of objects, `nil` in lists),
 * as are non-finite numbers (`nil`), and an object's `toJSON()` is encoded in its place.
 *
 * @throws TypeError on what JSON cannot encode either: a bigint, or nesting over 100 levels
 *   (a cycle).
 */
export function encodeEtf(value: unknown): Buffer {
  const writer = new Writer();
  writer.u8(VERSION);
  writer.term(value, 0);
  return writer.result();
}

const MAX_ENCODE_DEPTH = 100;

/** Values JSON leaves out of an object (and writes as null in an array). */
const omitted = (value: unknown): boolean =>
  typeof value === 'function' || typeof value === 'symbol';

class Writer {
  private buffer = Buffer.allocUnsafe(256);
  private length = 0;

  result(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }

  term(value: unknown, depth: number): void {
    if (depth > MAX_ENCODE_DEPTH) throw new TypeError('ETF: nesting too deep (a cycle?)');
    if (value === null || value === undefined || omitted(value)) return this.atom('nil');
    switch (typeof value) {
      case 'boolean':
        return this.atom(value ? 'true' : 'false');
      case 'number':
        return this.number(value);
      case 'string': {
        const bytes = Buffer.byteLength(value, 'utf8');
        this.reserve(5 + bytes);
        this.buffer[this.length] = BINARY_EXT;
        this.buffer.writeUInt32BE(bytes, this.length + 1);
        this.buffer.write(value, this.length + 5, 'utf8');
        this.length += 5 + bytes;
        return;
      }
      case 'object':
        if (Array.isArray(value)) return this.list(value, depth);
        if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
          return this.term((value as { toJSON(): unknown }).toJSON(), depth + 1);
        }
        return this.map(value as Record<string, unknown>, depth);
      default:
        throw new TypeError(`ETF: cannot encode a ${typeof value}`);
    }
  }

  private number(value: number): void {
    if (!Number.isFinite(value)) return this.atom('nil');
    if (Number.isInteger(value) && value >= 0 && value <= 255) {
      this.u8(SMALL_INTEGER_EXT);
      this.u8(value);
    } else if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff) {
      this.reserve(5);
      this.buffer[this.length] = INTEGER_EXT;
      this.buffer.writeInt32BE(value, this.length + 1);
      this.length += 5;
    } else if (Number.isSafeInteger(value)) {
      let magnitude = BigInt(Math.abs(value));
      const digits: number[] = [];
      while (magnitude > 0n) {
        digits.push(Number(magnitude & 0xffn));
        magnitude >>= 8n;
      }
      this.u8(SMALL_BIG_EXT);
      this.u8(digits.length);
      this.u8(value < 0 ? 1 : 0);
      for (const digit of digits) this.u8(digit);
    } else {
      this.reserve(9);
      this.buffer[this.length] = NEW_FLOAT_EXT;
      this.buffer.writeDoubleBE(value, this.length + 1);
      this.length += 9;
    }
  }

  private list(items: readonly unknown[], depth: number): void {
    if (items.length > 0) {
      this.u8(LIST_EXT);
      this.u32(items.length);
      for (const item of items) this.term(item, depth + 1);
    }
    this.u8(NIL_EXT);
  }

  private map(object: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(object).filter(
      (key) => object[key] !== undefined && !omitted(object[key]),
    );
    this.u8(MAP_EXT);
    this.u32(keys.length);
    for (const key of keys) {
      this.term(key, depth + 1);
      this.term(object[key], depth + 1);
    }
  }

  private atom(name: string): void {
    this.u8(SMALL_ATOM_EXT);
    this.u8(name.length);
    this.reserve(name.length);
    this.length += this.buffer.write(name, this.length, 'latin1');
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  private u32(value: number): void {
    this.reserve(4);
    this.buffer.writeUInt32BE(value, this.length);
    this.length += 4;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}
