import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import { AbortedError, HttpError, ProtocolError } from '../../../lib/gateway/errors/errors.js';
import { fetchGatewayBot } from '../../../lib/gateway/rest/gateway-bot.js';
import { DEFAULT_USER_AGENT, LIBRARY_VERSION } from '../../../lib/gateway/rest/user-agent.js';

/** Waits in real time (HTTP round trips on loopback) until `condition` holds. */
async function realUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition still false');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.secret-token-value';
const BODY = {
  url: 'wss://gateway.discord.gg/',
  shards: 9,
  session_start_limit: { total: 1000, remaining: 999, reset_after: 14400000, max_concurrency: 1 },
};

/** fetchGatewayBot's default request timeout, also a timer on the clock while a request runs. */
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * Waits (real time, the HTTP round trip) until the client set its retry timer on the clock: the
 * one timer pending is not the running request's timeout.
 */
async function timerSet(clock: ManualClock): Promise<void> {
  await realUntil(
    () => clock.pendingTimers === 1 && clock.nextDueAt() !== clock.now() + REQUEST_TIMEOUT_MS,
  );
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

let server: Server;
let apiUrl: string;
let replies: Reply[];
let requests: { url: string; headers: IncomingHttpHeaders }[];

beforeEach(async () => {
  replies = [];
  requests = [];
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    const reply = replies.shift() ?? { status: 200, body: BODY };
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    // A string body is sent as it is: JSON that JSON.stringify cannot write (1e400).
    res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v10`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('fetchGatewayBot (docs/protocol.md section 12)', () => {
  it('GW-GT-20: sends Authorization: Bot <token> and the DiscordBot User-Agent; parses the answer', async () => {
    const info = await fetchGatewayBot({ apiUrl: `${apiUrl}/`, token: TOKEN });
    expect(info).toEqual({
      url: 'wss://gateway.discord.gg/',
      shards: 9,
      sessionStartLimit: { total: 1000, remaining: 999, resetAfter: 14400000, maxConcurrency: 1 },
    });
    expect(requests).toHaveLength(1);
    expect(requests[0].url).toBe('/api/v10/gateway/bot');
    expect(requests[0].headers.authorization).toBe(`Bot ${TOKEN}`);
    expect(requests[0].headers['user-agent']).toBe(
      `DiscordBot (https://github.com/nestjs-discord-gateway/nestjs-discord-gateway, ${LIBRARY_VERSION})`,
    );
    expect(DEFAULT_USER_AGENT).toContain(LIBRARY_VERSION);
  });

  it('the User-Agent version is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    expect(LIBRARY_VERSION).toBe(pkg.version);
  });

  it('accepts a token holder that reveals the token only for the request', async () => {
    await fetchGatewayBot({
      apiUrl,
      token: { reveal: () => TOKEN },
      userAgent: 'DiscordBot (x, 1)',
    });
    expect(requests[0].headers.authorization).toBe(`Bot ${TOKEN}`);
    expect(requests[0].headers['user-agent']).toBe('DiscordBot (x, 1)');
  });

  it('sends through an injected fetch when one is given, with the same headers and retries', async () => {
    const clock = new ManualClock();
    const called: string[] = [];
    const injected: typeof fetch = (input, init) => {
      called.push(String(input));
      return fetch(input, init);
    };
    replies.push({ status: 429, body: { retry_after: 1 } });
    const settled = fetchGatewayBot({ apiUrl, token: TOKEN, clock, fetch: injected });
    await timerSet(clock);
    await clock.advance(1_000);
    const info = await settled;
    expect(info.shards).toBe(9);
    expect(called).toEqual([`${apiUrl}/gateway/bot`, `${apiUrl}/gateway/bot`]);
    expect(requests.map((r) => r.headers.authorization)).toEqual([`Bot ${TOKEN}`, `Bot ${TOKEN}`]);
  });

  it('honours a 429 retry-after (seconds) on the injected clock, then succeeds', async () => {
    const clock = new ManualClock();
    replies.push({
      status: 429,
      body: { message: 'You are being rate limited.', retry_after: 2.5, global: false },
    });
    let result: unknown;
    const pending = fetchGatewayBot({ apiUrl, token: TOKEN, clock }).then((r) => (result = r));
    await timerSet(clock);
    expect(clock.nextDueAt()).toBe(2_500);
    await clock.advance(2_499);
    expect(requests).toHaveLength(1);
    await clock.advance(1);
    await pending;
    expect(requests).toHaveLength(2);
    expect((result as { shards: number }).shards).toBe(9);
  });

  it('uses the Retry-After header when the body has none; gives up after maxRetries', async () => {
    const clock = new ManualClock();
    for (let i = 0; i < 3; i++)
      replies.push({ status: 429, body: {}, headers: { 'retry-after': '1' } });
    const pending = fetchGatewayBot({ apiUrl, token: TOKEN, clock, maxRetries: 2 });
    const outcome = pending.catch((error: unknown) => error);
    for (let i = 0; i < 2; i++) {
      await timerSet(clock);
      expect(clock.nextDueAt()).toBe(clock.now() + 1_000);
      await clock.advance(1_000);
    }
    const error = await outcome;
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(429);
    expect(requests).toHaveLength(3);
  });

  it('an HTTP failure is a typed HttpError that never shows the token or headers', async () => {
    replies.push({ status: 401, body: { message: '401: Unauthorized', code: 0 } });
    const error = (await fetchGatewayBot({ apiUrl, token: TOKEN }).catch(
      (e: unknown) => e,
    )) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error.status).toBe(401);
    expect(error.route).toBe('/gateway/bot');
    // Discord's code 0 ("general error") is left out: it says nothing the status does not.
    expect(error.message).toBe('GET /gateway/bot failed with HTTP 401 (the token was rejected)');
    for (const text of [
      error.message,
      inspect(error, { depth: 5 }),
      JSON.stringify(error),
      String(error.stack),
    ]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('Authorization');
    }
  });

  it.each([
    ['a body without a code', { message: '401: Unauthorized' }],
    ['a body that is not JSON', 'Unauthorized'],
  ])('a 401 with %s names no Discord error code', async (_name, body) => {
    replies.push({ status: 401, body });
    const error = (await fetchGatewayBot({ apiUrl, token: TOKEN }).catch(
      (e: unknown) => e,
    )) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error.message).toBe('GET /gateway/bot failed with HTTP 401 (the token was rejected)');
  });

  it('a network failure is retried after 1 s, then 2 s, then an HttpError with status 0 naming the cause', async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    const clock = new ManualClock();
    const settled = fetchGatewayBot({ apiUrl, token: TOKEN, clock, maxRetries: 2 }).catch(
      (e: unknown) => e,
    );
    await timerSet(clock);
    expect(clock.nextDueAt()).toBe(1_000);
    await clock.advance(1_000);
    await timerSet(clock);
    expect(clock.nextDueAt()).toBe(3_000);
    await clock.advance(2_000);
    const error = (await settled) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error.status).toBe(0);
    expect(error.message).toContain('ECONNREFUSED');
    // The host it could not reach, so that a wrong apiUrl shows in the message.
    expect(error.message).toContain(`reaching ${new URL(apiUrl).host}`);
    expect(inspect(error, { depth: 5 })).not.toContain(TOKEN);
    server = createServer().listen(0);
  });

  it('a 5xx is retried after 1 s, then the answer is used', async () => {
    const clock = new ManualClock();
    replies.push({ status: 502, body: {} });
    replies.push({ status: 200, body: BODY });
    const answer = fetchGatewayBot({ apiUrl, token: TOKEN, clock });
    await timerSet(clock);
    expect(clock.nextDueAt()).toBe(1_000);
    await clock.advance(1_000);
    await expect(answer).resolves.toMatchObject({ shards: BODY.shards });
  });

  it('a body of the wrong shape is a ProtocolError', async () => {
    replies.push({ status: 200, body: { url: 'wss://x', shards: 0 } });
    await expect(fetchGatewayBot({ apiUrl, token: TOKEN })).rejects.toBeInstanceOf(ProtocolError);
  });

  it('aborts with AbortedError while waiting out a 429', async () => {
    const clock = new ManualClock();
    replies.push({ status: 429, body: { retry_after: 10 } });
    const controller = new AbortController();
    const outcome = fetchGatewayBot({
      apiUrl,
      token: TOKEN,
      clock,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    await timerSet(clock);
    controller.abort();
    expect(await outcome).toBeInstanceOf(AbortedError);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('fetchGatewayBot against a hostile REST server', () => {
  it('an error body that echoes the request (token included) never reaches the HttpError', async () => {
    const echo = `Bot ${TOKEN} ${'\u001b[31m'}`;
    replies.push({ status: 400, body: { message: echo.repeat(3), code: 50035 } });
    const error = (await fetchGatewayBot({ apiUrl, token: TOKEN }).catch(
      (e: unknown) => e,
    )) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error.message).toBe('GET /gateway/bot failed with HTTP 400 (Discord error code 50035)');
    for (const text of [inspect(error, { depth: 5 }), JSON.stringify(error), String(error.stack)])
      expect(text).not.toContain(TOKEN.slice(0, 12));
  });

  it.each([
    ['a retry_after of 10^12 s', { retry_after: 1e12 }, {}],
    ['a retry_after of 1e400 (Infinity)', '{"retry_after":1e400}', {}],
    ['a Retry-After header of 3 days', {}, { 'retry-after': String(3 * 86_400) }],
  ])(
    '%s fails at once with HttpError 429 instead of overflowing the timer or waiting for ever',
    async (_name, body, headers) => {
      const clock = new ManualClock();
      replies.push({ status: 429, body, headers });
      const error = (await fetchGatewayBot({ apiUrl, token: TOKEN, clock }).catch(
        (e: unknown) => e,
      )) as HttpError;
      expect(error).toBeInstanceOf(HttpError);
      expect(error.status).toBe(429);
      expect(error.message).toContain('maxRetryWaitMs');
      expect(requests).toHaveLength(1);
      expect(clock.now()).toBe(0);
    },
  );

  it('retry waits that add up past maxRetryWaitMs end in an HttpError once the next one would not fit', async () => {
    const clock = new ManualClock();
    for (let i = 0; i < 5; i++) replies.push({ status: 429, body: { retry_after: 40 } });
    const outcome = fetchGatewayBot({ apiUrl, token: TOKEN, clock, maxRetryWaitMs: 100_000 }).catch(
      (e: unknown) => e,
    );
    for (let i = 0; i < 2; i++) {
      await timerSet(clock);
      expect(clock.nextDueAt()).toBe(clock.now() + 40_000);
      await clock.advance(40_000);
    }
    const error = (await outcome) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error.status).toBe(429);
    expect(requests).toHaveLength(3);
    expect(clock.now()).toBe(80_000);
  });

  it('a body over 64 KiB is not read: a ProtocolError, not a buffered megabyte string', async () => {
    replies.push({ status: 200, body: { ...BODY, padding: 'x'.repeat(1024 * 1024) } });
    await expect(fetchGatewayBot({ apiUrl, token: TOKEN })).rejects.toBeInstanceOf(ProtocolError);
  });

  it('a server that never answers: requestTimeoutMs on the clock, retried, then HttpError 0', async () => {
    const clock = new ManualClock();
    server.removeAllListeners('request');
    server.on('request', (req) => requests.push({ url: req.url ?? '', headers: req.headers }));
    const outcome = fetchGatewayBot({
      apiUrl,
      token: TOKEN,
      clock,
      maxRetries: 1,
      requestTimeoutMs: 5_000,
    }).catch((e: unknown) => e);
    await realUntil(() => requests.length === 1);
    await clock.advance(5_000);
    await realUntil(() => clock.pendingTimers === 1 && clock.nextDueAt() === 6_000);
    await clock.advance(1_000);
    await realUntil(() => requests.length === 2);
    await clock.advance(5_000);
    const error = (await outcome) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error.status).toBe(0);
    expect(error.message).toContain('no answer within 5000 ms');
  });
});
