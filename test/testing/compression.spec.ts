import { Decompress } from 'fzstd';
import zlib from 'node:zlib';
import { GatewayIntentBits } from 'discord-api-types/v10';
import { FakeGateway } from '../../lib/testing/index.js';
import { RawClient } from './raw-client.js';

const token = FakeGateway.defaultToken;
const SUFFIX = Buffer.from([0x00, 0x00, 0xff, 0xff]);

describe('FakeGateway transport compression', () => {
  let gw: FakeGateway;
  const clients: RawClient[] = [];
  const connect = async (query: string): Promise<RawClient> => {
    const client = await RawClient.connect(gw.url, { query });
    clients.push(client);
    return client;
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await gw?.stop();
  });

  it('GW-EN-4: zlib-stream, one deflate context per connection, every message ends in 00 00 ff ff and inflates on one createInflate', async () => {
    gw = await FakeGateway.start({ traffic: { guildCount: 2, membersPerGuild: 2_000 } });
    const client = await connect('v=10&encoding=json&compress=zlib-stream');
    const frames: Buffer[] = [];
    client.ws.on('message', (data: Buffer, isBinary: boolean) => {
      expect(isBinary).toBe(true);
      frames.push(data);
    });
    await client.next(10);
    client.identify(token, {
      intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessageTyping,
    });
    await client.until(() => client.dispatches().length === 3);
    for (let i = 0; i < 200; i++)
      gw.dispatch('TYPING_START', {
        guild_id: gw.traffic.guilds[0].id,
        n: i,
        channel_id: '1',
        user_id: '2',
        timestamp: 1,
      });
    await client.until(() => client.dispatches().length === 203);
    expect(
      client
        .dispatches()
        .slice(3)
        .map((p) => p.d.n),
    ).toEqual([...Array(200).keys()]);
    for (const frame of frames) expect(frame.subarray(-4).equals(SUFFIX)).toBe(true);
    // Large GUILD_CREATEs survived the stream intact.
    expect(client.dispatches()[1].d.members).toHaveLength(2_001);
    expect(gw.record.connections[0].compression).toBe('zlib-stream');
  });

  it('GW-EN-4: a message split over several WebSocket messages inflates once all parts are in', async () => {
    gw = await FakeGateway.start({ connection: { splitParts: 3 } });
    const client = await connect('v=10&encoding=json&compress=zlib-stream');
    const parts: Buffer[] = [];
    client.ws.on('message', (data: Buffer) => parts.push(data));
    await client.next(10);
    client.identify(token);
    await client.until(() => client.dispatches().length === 3);
    const ready = client.dispatches()[0];
    expect(ready.t).toBe('READY');
    const messages = client.received.length;
    expect(client.wsMessages).toBeGreaterThanOrEqual(messages * 2);
    const incomplete = parts.filter((p) => !p.subarray(-4).equals(SUFFIX));
    expect(incomplete.length).toBeGreaterThan(0);
  });

  it('GW-EN-4: a message may also arrive as continuation frames of one WebSocket message', async () => {
    gw = await FakeGateway.start({ connection: { splitParts: 4, splitAs: 'fragments' } });
    const client = await connect('v=10&encoding=json&compress=zlib-stream');
    await client.next(10);
    client.identify(token);
    await client.until(() => client.dispatches().length === 3);
    expect(client.wsMessages).toBe(client.received.length);
  });

  it('GW-GT-9: each connection has a fresh context (a second connection inflates from scratch)', async () => {
    gw = await FakeGateway.start();
    const first = await connect('v=10&encoding=json&compress=zlib-stream');
    await first.next(10);
    const second = await connect('v=10&encoding=json&compress=zlib-stream');
    const firstFrame = await new Promise<Buffer>((resolve) =>
      second.ws.once('message', (data: Buffer) => resolve(data)),
    );
    // A zlib header (0x78) starts every connection's first message.
    expect(firstFrame[0]).toBe(0x78);
    expect(
      zlib.inflateSync(firstFrame, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString(),
    ).toContain('"op":10');
  });

  it('corrupt zlib data and invalid UTF-8 inside the stream can be injected', async () => {
    gw = await FakeGateway.start();
    const client = await connect('v=10&encoding=json&compress=zlib-stream');
    await client.next(10);
    client.identify(token);
    await client.until(() => client.dispatches().length === 3);
    const raw = await new Promise<Buffer>((resolve) => {
      client.ws.once('message', (data: Buffer) => resolve(data));
      gw.connectionFor(0)!.sendMalformed('invalid-utf8');
    });
    expect(raw.subarray(-4).equals(SUFFIX)).toBe(true);
    const corrupt = await new Promise<Buffer>((resolve) => {
      client.ws.once('message', (data: Buffer) => resolve(data));
      gw.connectionFor(0)!.sendMalformed('corrupt-zlib');
    });
    expect(corrupt.subarray(-4).equals(SUFFIX)).toBe(true);
    expect(corrupt).toHaveLength(64);
  });

  const zstd = FakeGateway.supportsZstd ? it : it.skip;
  if (!FakeGateway.supportsZstd) {
    console.warn(
      'zstd-stream transport tests skipped: no zstd encoder (node:zlib zstd or zstd-napi) on Node',
      process.version,
    );
  }

  zstd('GW-EN-5: zstd-stream, one never-ended frame per connection', async () => {
    gw = await FakeGateway.start();
    const client = await RawClient.connect(gw.url, {
      query: 'v=10&encoding=json&compress=zstd-stream',
    });
    clients.push(client);
    const first = await client.until(() => client.rawMessages[0]);
    expect(first.readUInt32LE(0)).toBe(0xfd2fb528);
    // The first message (HELLO) decodes on its own from the frame start; the frame never ends.
    const stream = new Decompress();
    const texts: string[] = [];
    stream.ondata = (chunk) => texts.push(Buffer.from(chunk).toString('utf8'));
    stream.push(new Uint8Array(first));
    expect(JSON.parse(texts.join(''))).toMatchObject({ op: 10 });
  });

  // Only where no encoder exists: then zstd-stream must be refused clearly, never half-served.
  if (!FakeGateway.supportsZstd) {
    it('GW-EN-5: without a zstd encoder, zstd-stream upgrades are refused with a clear 501', async () => {
      gw = await FakeGateway.start();
      await expect(
        RawClient.connect(gw.url, { query: 'v=10&encoding=json&compress=zstd-stream' }),
      ).rejects.toThrow(/HTTP 501: zstd-stream is not supported/);
      expect(gw.record.upgrades[0]).toMatchObject({ outcome: 'unsupported', status: 501 });
    });
  }
});
