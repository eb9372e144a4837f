import { request } from 'node:http';
import { ManualClock } from '../../lib/gateway/clock/manual-clock.js';
import { FakeGateway } from '../../lib/testing/index.js';
import { RawClient } from './raw-client.js';

const token = FakeGateway.defaultToken;

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

function http(
  url: string,
  {
    method = 'GET',
    headers = {},
    body,
  }: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        headers: { ...headers, ...(text ? { 'content-type': 'application/json' } : {}) },
        agent: false,
      },
      (res) => {
        let raw = '';
        res.on('data', (chunk: Buffer) => (raw += chunk.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: raw ? JSON.parse(raw) : null,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

const auth = {
  authorization: `Bot ${token}`,
  'user-agent': 'DiscordBot (nestjs-discord-gateway, 0.1.0)',
};

describe('FakeGateway identify limits and REST', () => {
  let gw: FakeGateway;
  const clients: RawClient[] = [];
  const identify = async (shard: [number, number]): Promise<RawClient> => {
    const client = await RawClient.connect(gw.url);
    clients.push(client);
    await client.next(10);
    client.identify(token, { shard });
    return client;
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await gw?.stop();
  });

  it('GW-RL-2 / GW-SH-4: a second IDENTIFY in the same bucket within the window gets op 9 d=false and is recorded', async () => {
    const clock = new ManualClock(1_000_000);
    gw = await FakeGateway.start({ clock, maxConcurrency: 2, shards: 4, identifyWindowMs: 5_000 });
    const zero = await identify([0, 4]);
    await zero.next(0, 'READY');
    const one = await identify([1, 4]);
    await one.next(0, 'READY');
    const two = await identify([2, 4]);
    expect((await two.next(9)).d).toBe(false);
    expect(gw.record.violationsOf('identify-bucket')).toEqual([
      expect.objectContaining({ kind: 'identify-bucket', closeCode: null, at: 1_000_000 }),
    ]);
    await clock.advance(5_000);
    two.identify(token, { shard: [2, 4] });
    await two.next(0, 'READY');
    expect(gw.record.identifies.map((i) => [i.shardId, i.bucket, i.at, i.outcome])).toEqual([
      [0, 0, 1_000_000, 'accepted'],
      [1, 1, 1_000_000, 'accepted'],
      [2, 0, 1_000_000, 'rate-limited'],
      [2, 0, 1_005_000, 'accepted'],
    ]);
  });

  it('GW-ID-5: the daily budget is decremented per IDENTIFY, shown by /gateway/bot, and exhausting it is recorded', async () => {
    const clock = new ManualClock();
    gw = await FakeGateway.start({
      clock,
      shards: 3,
      sessionStartLimit: { total: 2, resetAfterMs: 60_000 },
    });
    const before = await http(`${gw.apiUrl}/gateway/bot`, { headers: auth });
    expect(before.body).toEqual({
      url: gw.url,
      shards: 3,
      session_start_limit: { total: 2, remaining: 2, reset_after: 60_000, max_concurrency: 1 },
    });
    for (const shard of [0, 1]) {
      const client = await identify([shard, 3]);
      await client.next(0, 'READY');
      await clock.advance(5_000);
    }
    const after = await http(`${gw.apiUrl}/gateway/bot`, { headers: auth });
    expect(after.body.session_start_limit).toEqual({
      total: 2,
      remaining: 0,
      reset_after: 50_000,
      max_concurrency: 1,
    });
    const third = await identify([2, 3]);
    expect((await third.closed).code).toBe(4004);
    expect(gw.record.violationsOf('session-budget')).toHaveLength(1);
    expect(gw.record.identifies.at(-1)).toMatchObject({ outcome: 'budget-exhausted' });
    await clock.advance(50_000);
    const reset = await http(`${gw.apiUrl}/gateway/bot`, { headers: auth });
    expect(reset.body.session_start_limit.remaining).toBe(2);
  });

  it('GW-URL-1: /gateway/bot needs Bot auth, records the User-Agent, never the Authorization value', async () => {
    gw = await FakeGateway.start();
    expect((await http(`${gw.apiUrl}/gateway/bot`)).status).toBe(401);
    expect(
      (await http(`${gw.apiUrl}/gateway/bot`, { headers: { authorization: token } })).status,
    ).toBe(401);
    expect((await http(`${gw.apiUrl}/gateway/bot`, { headers: auth })).status).toBe(200);
    expect(await http(`${gw.apiUrl}/gateway`)).toMatchObject({
      status: 200,
      body: { url: gw.url },
    });
    expect(gw.record.http.map((h) => [h.method, h.path, h.status, h.authorized])).toEqual([
      ['GET', '/api/v10/gateway/bot', 401, false],
      ['GET', '/api/v10/gateway/bot', 401, false],
      ['GET', '/api/v10/gateway/bot', 200, true],
      ['GET', '/api/v10/gateway', 200, false],
    ]);
    expect(gw.record.http[2].userAgent).toBe(auth['user-agent']);
    expect(JSON.stringify(gw.record.http)).not.toContain(token);
  });

  it('can answer /gateway/bot with 429 and retry_after once', async () => {
    gw = await FakeGateway.start();
    gw.rateLimitHttp({ retryAfterS: 2.5 });
    const limited = await http(`${gw.apiUrl}/gateway/bot`, { headers: auth });
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      message: 'You are being rate limited.',
      retry_after: 2.5,
      global: false,
    });
    expect(limited.headers['retry-after']).toBe('3');
    expect((await http(`${gw.apiUrl}/gateway/bot`, { headers: auth })).status).toBe(200);
  });

  it('records the sample bot REST calls: create message and interaction callback', async () => {
    gw = await FakeGateway.start();
    const channel = gw.traffic.guilds[0].channels[0].id;
    const created = await http(`${gw.apiUrl}/channels/${channel}/messages`, {
      method: 'POST',
      headers: auth,
      body: { content: 'Pong! 42 ms' },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      channel_id: channel,
      content: 'Pong! 42 ms',
      author: { id: gw.traffic.botUser.id },
    });
    const callback = await http(`${gw.apiUrl}/interactions/123/tok-en/callback`, {
      method: 'POST',
      body: { type: 4, data: { content: 'hi' } },
    });
    expect(callback.status).toBe(204);
    expect(gw.record.http.map((h) => [h.method, h.path, h.body])).toEqual([
      ['POST', `/api/v10/channels/${channel}/messages`, { content: 'Pong! 42 ms' }],
      ['POST', '/api/v10/interactions/123/tok-en/callback', { type: 4, data: { content: 'hi' } }],
    ]);
    expect((await http(`${gw.apiUrl}/users/@me`, { headers: auth })).status).toBe(404);
  });
});
