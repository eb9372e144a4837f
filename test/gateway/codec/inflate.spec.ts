import { constants, createDeflate } from 'node:zlib';
import { DecodeError } from '../../../lib/gateway/errors/errors.js';
import {
  FzstdInflater,
  ZstdNapiInflater,
  loadZstdNapi,
  NodeZlibInflater,
  ZlibSyncInflater,
  createInflater,
  loadZlibSync,
  type Inflater,
  type InflaterLimits,
} from '../../../lib/gateway/codec/index.js';
import { describeWithFixtures, loadFixture } from '../../support/fixtures.js';

interface VectorFrame {
  b64: string;
  completes_message?: boolean;
}
interface VectorSet {
  name: string;
  frames: VectorFrame[];
  expected_messages: string[];
}

const LIMITS: InflaterLimits = { maxInflatedBytes: 64 * 1024 * 1024 };
const zlibSyncAvailable = loadZlibSync() !== null;

/** Both zlib-stream implementations; zlib-sync only where the addon built (the fallback always runs). */
const zlibImplementations: [string, (limits: InflaterLimits) => Inflater][] = [
  ['node:zlib', (limits) => new NodeZlibInflater(limits)],
  ...(zlibSyncAvailable
    ? [
        ['zlib-sync', (limits: InflaterLimits) => new ZlibSyncInflater(limits)] as [
          string,
          (limits: InflaterLimits) => Inflater,
        ],
      ]
    : []),
];
if (!zlibSyncAvailable) console.warn('zlib-sync did not load: its inflate tests are skipped');

const frameBytes = (frame: VectorFrame): Buffer => Buffer.from(frame.b64, 'base64');

/** Runs frames through one inflater; returns the completed messages as text. */
function inflateAll(inflater: Inflater, frames: readonly Buffer[]): string[] {
  const messages: string[] = [];
  for (const frame of frames) {
    const message = inflater.push(frame);
    if (message !== null) messages.push(message.toString('utf8'));
  }
  return messages;
}

/** A zlib-stream the way Discord (and the fake gateway) writes it: one deflate context, a sync flush per message. */
async function deflateStream(messages: readonly (string | Buffer)[]): Promise<Buffer[]> {
  const deflate = createDeflate();
  const frames: Buffer[] = [];
  for (const message of messages) {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
    };
    deflate.on('data', onData);
    deflate.write(message);
    await new Promise<void>((resolve) => deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    deflate.off('data', onData);
    frames.push(Buffer.concat(chunks));
  }
  deflate.close();
  return frames;
}

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function syntheticMessages(count: number, rng: () => number): string[] {
  const messages: string[] = [];
  for (let i = 0; i < count; i++) {
    // Mostly small dispatches, some larger than the 32 KiB window, all sharing vocabulary so
    // later messages refer back into earlier ones.
    const size = rng() < 0.1 ? 40_000 + Math.floor(rng() * 60_000) : Math.floor(rng() * 3_000);
    let content = '';
    while (content.length < size) content += `word${Math.floor(rng() * 500)} é ✓ `;
    messages.push(JSON.stringify({ t: 'MESSAGE_CREATE', s: i + 1, op: 0, d: { content } }));
  }
  return messages;
}

/**
 * A zstd frame that never ends, made of `blocks` RLE blocks of 128 KiB each (4 bytes each on
 * the wire): a compact decompression bomb without a zstd encoder.
 */
function zstdRleFrame(blocks: number, byte = 0x61): Buffer {
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]); // magic, no content size, 128 KiB window
  const block = Buffer.from([0x02, 0x00, 0x10, byte]); // RLE block, 131072 bytes, not last
  return Buffer.concat([header, ...Array.from({ length: blocks }, () => block)]);
}

describeWithFixtures('zlib-stream vectors (GW-EN-4)', () => {
  const vectors: { sets: VectorSet[] } = loadFixture('compression/zlib-stream.vectors.json');

  describe.each(zlibImplementations)('%s', (_name, create) => {
    it.each(vectors.sets.map((set) => [set.name, set] as const))(
      'GW-EN-4: set %s decodes to the expected messages, completing exactly on the flush marker',
      (_setName, set) => {
        const inflater = create(LIMITS);
        const messages: string[] = [];
        for (const frame of set.frames) {
          const message = inflater.push(frameBytes(frame));
          expect(message !== null).toBe(frame.completes_message ?? true);
          if (message !== null) messages.push(message.toString('utf8'));
        }
        expect(messages).toEqual(set.expected_messages);
      },
    );

    it('GW-EN-4: READY split over 3 frames is held until its last frame, then arrives whole', () => {
      const set = vectors.sets[0];
      const inflater = create(LIMITS);
      const frames = set.frames.map(frameBytes);
      expect(inflater.push(frames[0])?.toString()).toBe(set.expected_messages[0]);
      expect(inflater.push(frames[1])).toBeNull();
      expect(inflater.push(frames[2])).toBeNull();
      const ready = inflater.push(frames[3])!.toString();
      expect(ready).toBe(set.expected_messages[1]);
      expect(JSON.parse(ready).t).toBe('READY');
    });

    it('GW-GT-9: a fresh context fails on the second message (the context must live as long as the connection)', () => {
      const set = vectors.sets[0];
      const fresh = create(LIMITS);
      const frames = set.frames.map(frameBytes);
      expect(fresh.push(frames[1])).toBeNull();
      expect(fresh.push(frames[2])).toBeNull();
      expect(() => fresh.push(frames[3])).toThrow(DecodeError);
      // Unusable after the error: the shard replaces it with its connection.
      expect(() => fresh.push(frames[0])).toThrow(DecodeError);
    });
  });

  it('GW-EN-4: zlib-sync and the node:zlib fallback give identical bytes on every vector', () => {
    if (!zlibSyncAvailable) return;
    for (const set of vectors.sets) {
      const frames = set.frames.map(frameBytes);
      expect(inflateAll(new ZlibSyncInflater(LIMITS), frames)).toEqual(
        inflateAll(new NodeZlibInflater(LIMITS), frames),
      );
    }
  });
});

describe('zlib-stream inflaters on generated streams (GW-EN-4)', () => {
  let messages: string[];
  let frames: Buffer[];

  beforeAll(async () => {
    messages = syntheticMessages(120, random(7));
    frames = await deflateStream(messages);
  });

  describe.each(zlibImplementations)('%s', (_name, create) => {
    it('GW-EN-4: decodes a long stream whose messages refer back across message boundaries', () => {
      expect(inflateAll(create(LIMITS), frames)).toEqual(messages);
    });

    it('GW-EN-4: decodes messages split at arbitrary points, including inside the 00 00 ff ff marker', () => {
      const rng = random(11);
      const split: Buffer[] = [];
      for (const frame of frames) {
        let offset = 0;
        while (offset < frame.length) {
          const size =
            rng() < 0.3 ? 1 + Math.floor(rng() * 3) : 1 + Math.floor(rng() * frame.length);
          split.push(frame.subarray(offset, offset + size));
          offset += size;
        }
      }
      expect(inflateAll(create(LIMITS), split)).toEqual(messages);
    });

    it('GW-EN-4: large messages under a tight cap decode the same (zlib-sync feeds them in slices)', () => {
      const largest = Math.max(...messages.map((message) => Buffer.byteLength(message)));
      expect(Math.max(...frames.map((frame) => frame.length))).toBeGreaterThan(4096);
      expect(inflateAll(create({ maxInflatedBytes: largest }), frames)).toEqual(messages);
    });

    it('GW-GT-9: never inflates a frame without the marker, even at the end of a message', () => {
      const inflater = create(LIMITS);
      const first = frames[0];
      expect(inflater.push(first.subarray(0, first.length - 4))).toBeNull();
      expect(inflater.push(first.subarray(first.length - 4))!.toString()).toBe(messages[0]);
    });

    it('GW-EN-4: a message exactly at maxInflatedBytes passes; one byte over is a DecodeError (bomb cap)', async () => {
      const body = 'x'.repeat(50_000);
      const [frame] = await deflateStream([body]);
      expect(create({ maxInflatedBytes: 50_000 }).push(frame)!.length).toBe(50_000);
      const capped = create({ maxInflatedBytes: 49_999 });
      expect(() => capped.push(frame)).toThrow(/maxInflatedBytes \(49999 bytes\)/);
      expect(() => capped.push(frame)).toThrow(DecodeError);
    });

    it('GW-EN-4: a decompression bomb (10 MiB of zeros in a few KiB) is refused under a 1 MiB cap', async () => {
      const [hello, bomb] = await deflateStream(['{"op":10}', Buffer.alloc(10 * 1024 * 1024)]);
      const inflater = create({ maxInflatedBytes: 1024 * 1024 });
      expect(inflater.push(hello)!.toString()).toBe('{"op":10}');
      expect(bomb.length).toBeLessThan(64 * 1024);
      expect(() => inflater.push(bomb)).toThrow(DecodeError);
    });

    it('GW-EN-4: compressed input past what the cap allows is refused before any inflate', () => {
      const inflater = create({ maxInflatedBytes: 1000 });
      expect(() => inflater.push(Buffer.alloc(5000, 1))).toThrow(DecodeError);
    });

    it('corrupt data is a DecodeError, and the inflater stays unusable after it', () => {
      const garbage = create(LIMITS);
      expect(() => garbage.push(Buffer.from('not zlib at all\x00\x00\xff\xff', 'latin1'))).toThrow(
        DecodeError,
      );
      expect(() => garbage.push(frames[0])).toThrow(DecodeError);

      const corrupted = create(LIMITS);
      expect(corrupted.push(frames[0])!.toString()).toBe(messages[0]);
      const broken = Buffer.from(frames[1]);
      broken.fill(0xff, 0, Math.min(16, broken.length - 4));
      expect(() => corrupted.push(broken)).toThrow(DecodeError);
    });

    it('close() makes later pushes fail with a DecodeError', () => {
      const inflater = create(LIMITS);
      inflater.close();
      inflater.close();
      expect(() => inflater.push(frames[0])).toThrow(/closed/);
    });
  });

  it('zlib-sync and node:zlib agree byte for byte on the generated stream', () => {
    if (!zlibSyncAvailable) return;
    expect(inflateAll(new ZlibSyncInflater(LIMITS), frames)).toEqual(
      inflateAll(new NodeZlibInflater(LIMITS), frames),
    );
  });
});

const zstdNapiAvailable = loadZstdNapi() !== null;
const zstdImplementations: [string, (limits: InflaterLimits) => Inflater][] = [
  ['fzstd', (limits) => new FzstdInflater(limits)],
  ...(zstdNapiAvailable
    ? [
        ['zstd-napi', (limits: InflaterLimits) => new ZstdNapiInflater(limits)] as [
          string,
          (limits: InflaterLimits) => Inflater,
        ],
      ]
    : []),
];

describeWithFixtures('zstd-stream vectors (GW-EN-5)', () => {
  const vectors: { sets: VectorSet[] } = loadFixture('compression/zstd-stream.vectors.json');

  describe.each(zstdImplementations)('%s', (_name, create) => {
    it.each(vectors.sets.map((set) => [set.name, set] as const))(
      'GW-EN-5: set %s decodes one gateway message per WebSocket message from a frame that never ends',
      (_setName, set) => {
        const inflater = create(LIMITS);
        const messages = set.frames.map((frame) =>
          inflater.push(frameBytes(frame))?.toString('utf8'),
        );
        expect(messages).toEqual(set.expected_messages);
      },
    );

    it('GW-GT-9: a fresh context fails on the second message', () => {
      const set = vectors.sets[0];
      expect(() => create(LIMITS).push(frameBytes(set.frames[1]))).toThrow(DecodeError);
    });
  });
});

describe.each(zstdImplementations)('zstd-stream inflater %s (GW-EN-5)', (_name, create) => {
  it('GW-EN-5: drains every block of a message, and keeps the stream open for the next one', () => {
    const frame = zstdRleFrame(6);
    const inflater = create(LIMITS);
    const first = inflater.push(frame.subarray(0, 6 + 4 * 3))!;
    expect(first.length).toBe(3 * 131072);
    expect(first.every((byte) => byte === 0x61)).toBe(true);
    expect(inflater.push(frame.subarray(6 + 4 * 3))!.length).toBe(3 * 131072);
  });

  it('GW-EN-5: a decompression bomb is refused under the cap and leaves the inflater unusable', () => {
    const bomb = zstdRleFrame(100); // 12.5 MiB from 406 bytes
    const inflater = create({ maxInflatedBytes: 1024 * 1024 });
    expect(() => inflater.push(bomb)).toThrow(/maxInflatedBytes/);
    expect(() => inflater.push(bomb)).toThrow(DecodeError);
  });

  it('a frame header asking for a window over 128 MiB is refused before anything is allocated', () => {
    const greedy = zstdRleFrame(4);
    greedy[5] = 0xa0; // window 2^30
    expect(() => create(LIMITS).push(greedy)).toThrow(DecodeError);
  });

  it.each([
    ['in one message', (first: Buffer, second: Buffer) => [Buffer.concat([first, second])]],
    ['in the next message', (first: Buffer, second: Buffer) => [first, second]],
    [
      'split inside its header',
      (first: Buffer, second: Buffer) => [
        Buffer.concat([first, second.subarray(0, 5)]),
        second.subarray(5),
      ],
    ],
  ])(
    'a later frame asking for a window over 128 MiB is refused too (%s), not just the first',
    (_how, split) => {
      // Frame 1: one last RLE block of 16 bytes (block header: last, RLE, size 16), with a checksum.
      const first = Buffer.from([
        0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x38, 0x83, 0x00, 0x00, 0x61, 1, 2, 3, 4,
      ]);
      const second = zstdRleFrame(2);
      second[5] = 0xa7; // window 1.875 GiB: fzstd would allocate it
      const inflater = create(LIMITS);
      const messages = split(first, second);
      let output = 0;
      let error: unknown;
      try {
        for (const message of messages) output += inflater.push(message)?.length ?? 0;
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(DecodeError);
      expect(output).toBeLessThanOrEqual(16);
    },
  );

  it('frames that end and start again, skippable frames between them, decode in full', () => {
    const last = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38, 0x83, 0x00, 0x00, 0x62]);
    const skippable = Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
    const inflater = create(LIMITS);
    const output = inflater.push(Buffer.concat([last, skippable, zstdRleFrame(4)]))!;
    expect(output.length).toBe(16 + 4 * 131072);
    expect(output.subarray(0, 16).every((byte) => byte === 0x62)).toBe(true);
  });

  it('corrupt data (bad magic) is a DecodeError', () => {
    const bad = zstdRleFrame(4);
    bad[0] = 0x00;
    expect(() => create(LIMITS).push(bad)).toThrow(DecodeError);
  });

  it('close() makes later pushes fail with a DecodeError', () => {
    const inflater = create(LIMITS);
    inflater.close();
    expect(() => inflater.push(zstdRleFrame(1))).toThrow(DecodeError);
  });
});

describe('createInflater', () => {
  it('GW-EN-4: zlib-stream uses zlib-sync when it loads, else the synchronous node:zlib fallback', () => {
    const inflater = createInflater('zlib-stream', LIMITS);
    expect(inflater.implementation).toBe(zlibSyncAvailable ? 'zlib-sync' : 'node:zlib');
  });

  it('GW-EN-5: zstd-stream uses zstd-napi when it loads, else fzstd; synchronous either way', () => {
    const inflater = createInflater('zstd-stream', LIMITS);
    expect(inflater.implementation).toBe(zstdNapiAvailable ? 'zstd-napi' : 'fzstd');
  });

  it('GW-GT-9: every call returns a new, independent context', () => {
    expect(createInflater('zlib-stream', LIMITS)).not.toBe(createInflater('zlib-stream', LIMITS));
  });

  it.each([0, -1, 1.5, Number.NaN])(
    'rejects maxInflatedBytes %p with a RangeError',
    (maxInflatedBytes) => {
      expect(() => createInflater('zlib-stream', { maxInflatedBytes })).toThrow(RangeError);
      expect(() => createInflater('zstd-stream', { maxInflatedBytes })).toThrow(RangeError);
    },
  );
});
