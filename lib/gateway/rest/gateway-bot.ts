import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { systemClock, type Clock } from '../clock/clock.js';
import { AbortedError, HttpError, ProtocolError } from '../errors/errors.js';
import { silentLogger, type GatewayLogger } from '../logger.js';
import { DEFAULT_USER_AGENT } from './user-agent.js';

/** GET /gateway/bot, camel-cased (docs/protocol.md section 12). */
export interface GatewayBotInfo {
  /** The gateway URL to connect to (`wss://gateway.discord.gg`). */
  readonly url: string;
  /** Recommended shard count. */
  readonly shards: number;
  readonly sessionStartLimit: {
    /** Identifies allowed per 24 h. */
    readonly total: number;
    /** Identifies left. */
    readonly remaining: number;
    /** Ms until `remaining` resets. */
    readonly resetAfter: number;
    /** Identifies allowed per 5 s window; the number of buckets (GW-SH-4). */
    readonly maxConcurrency: number;
  };
}

/** A token as a string, or a holder that reveals it only when asked (config's Token). */
export type TokenSource = string | { reveal(): string };

export interface FetchGatewayBotOptions {
  /** API base, e.g. `https://discord.com/api/v10` (no trailing slash needed). */
  readonly apiUrl: string;
  /** Bot token, without the `Bot ` prefix (GW-GT-20: REST adds it). */
  readonly token: TokenSource;
  /** Default `DiscordBot (https://github.com/nestjs-discord-gateway/nestjs-discord-gateway, <version>)`. */
  readonly userAgent?: string;
  readonly signal?: AbortSignal;
  /** How many times a 429, a 5xx or a network error is retried. Default 5. */
  readonly maxRetries?: number;
  /**
   * Most time, in ms, all retry waits together may take (default 120_000). A 429 whose
   * `retry_after` would go past it fails at once with an HttpError instead of waiting.
   */
  readonly maxRetryWaitMs?: number;
  /** Ms one request may take, answer body included, before it counts as a network failure. Default 15_000. */
  readonly requestTimeoutMs?: number;
  /** Paces the retry waits. Default {@link systemClock}. */
  readonly clock?: Clock;
  readonly logger?: GatewayLogger;
  /**
   * Sends the request instead of `node:http(s)`, e.g. a `fetch` with a proxy dispatcher.
   * Default: `node:http(s)`, not the global `fetch`, whose first call loads undici into the
   * process for good (~2 MiB of heap) for this one request.
   */
  readonly fetch?: typeof fetch;
}

/** What one request got back: status, headers and the body read as JSON (`null`: not JSON, or too long). */
interface HttpAnswer {
  readonly status: number;
  header(name: string): string | null;
  readonly body: unknown;
}

const ROUTE = '/gateway/bot';
/** The answer is a few hundred bytes; a body past this is refused unread. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Fetches GET /gateway/bot (docs/protocol.md section 12): recommended shard count, gateway URL and
 * `session_start_limit`. Sends `Authorization: Bot <token>` (GW-GT-20) and Discord's
 * `User-Agent`. A 429 is retried after its retry-after (seconds, from the body or the header);
 * a network error, a timeout or a 5xx after 1 s, 2 s, 4 s, ... (capped at 30 s); each waited on
 * `clock`, up to `maxRetries` retries and `maxRetryWaitMs` of waiting in all. Other failures
 * (401: the token was rejected) throw at once.
 *
 * What the server sends is bounded: a body over 64 KiB is not read, a request is given up after
 * `requestTimeoutMs`, and error messages hold the status and Discord's numeric error code
 * (left out when it is 0 or absent), never the body's text (a server that echoes the request
 * would put the token there).
 *
 * @throws HttpError on a non-2xx answer, a network failure, or a rate limit longer than the
 *   waiting budget (message never holds the token, headers or body text)
 * @throws ProtocolError when the body is not the documented shape
 * @throws AbortedError when `signal` aborts
 */
export async function fetchGatewayBot(options: FetchGatewayBotOptions): Promise<GatewayBotInfo> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxRetries = options.maxRetries ?? 5;
  const requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
  let waitLeftMs = options.maxRetryWaitMs ?? 120_000;
  const url = `${options.apiUrl.replace(/\/+$/, '')}${ROUTE}`;
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted) throw new AbortedError(`GET ${ROUTE}`);
    const timeout = new AbortController();
    const timer = clock.setTimeout(() => timeout.abort(), requestTimeoutMs);
    let answer: HttpAnswer | { failure: string };
    try {
      const headers = {
        Authorization: `Bot ${typeof options.token === 'string' ? options.token : options.token.reveal()}`,
        'User-Agent': options.userAgent ?? DEFAULT_USER_AGENT,
        Accept: 'application/json',
      };
      const signal =
        options.signal === undefined
          ? timeout.signal
          : AbortSignal.any([options.signal, timeout.signal]);
      answer =
        options.fetch === undefined
          ? await httpGet(url, headers, signal)
          : await fetchGet(options.fetch, url, headers, signal);
    } catch (error) {
      if (options.signal?.aborted) throw new AbortedError(`GET ${ROUTE}`);
      answer = {
        failure: timeout.signal.aborted
          ? `no answer within ${requestTimeoutMs} ms`
          : `${describeNetworkError(error)} reaching ${hostOf(url)}`,
      };
    } finally {
      clock.clearTimeout(timer);
    }
    const retry = attempt < maxRetries ? retryOf(answer, attempt) : null;
    if (retry !== null && retry.waitMs <= waitLeftMs) {
      logger.warn(
        `GET ${ROUTE} ${retry.what}; retrying in ${retry.waitMs} ms (${attempt + 1}/${maxRetries})`,
      );
      waitLeftMs -= retry.waitMs;
      await sleep(clock, retry.waitMs, options.signal);
      continue;
    }
    if ('failure' in answer)
      throw new HttpError(0, ROUTE, `GET ${ROUTE} failed: ${answer.failure}`);
    const { status, body } = answer;
    if (status < 200 || status > 299) {
      const code = (body as { code?: unknown } | null)?.code;
      throw new HttpError(
        status,
        ROUTE,
        `GET ${ROUTE} failed with HTTP ${status}` +
          (status === 401 ? ' (the token was rejected)' : '') +
          (retry !== null && status === 429
            ? ` (rate limited for ${retry.waitMs} ms, more than the ${waitLeftMs} ms of maxRetryWaitMs left)`
            : '') +
          // Code 0 is Discord's "general error": it would add nothing to the status.
          (Number.isSafeInteger(code) && code !== 0
            ? ` (Discord error code ${code as number})`
            : ''),
      );
    }
    return parseGatewayBot(body);
  }
}

/** The host a network failure names (never the user info a URL may carry). */
function hostOf(url: string): string {
  return URL.canParse(url) ? new URL(url).host : 'the API URL';
}

/** Whether an answer is worth a retry, and after how long: 429, 5xx and network failures. */
function retryOf(
  answer: HttpAnswer | { failure: string },
  attempt: number,
): { waitMs: number; what: string } | null {
  if ('failure' in answer) {
    return { waitMs: transientBackoffMs(attempt), what: `failed (${answer.failure})` };
  }
  const { status } = answer;
  if (status === 429) return { waitMs: retryAfterMs(answer), what: 'rate limited' };
  if (status >= 500)
    return { waitMs: transientBackoffMs(attempt), what: `answered HTTP ${status}` };
  return null;
}

function parseGatewayBot(body: unknown): GatewayBotInfo {
  const raw = body as {
    url?: unknown;
    shards?: unknown;
    session_start_limit?: {
      total?: unknown;
      remaining?: unknown;
      reset_after?: unknown;
      max_concurrency?: unknown;
    };
  } | null;
  const limit = raw?.session_start_limit;
  const isCount = (v: unknown, min: number): v is number =>
    Number.isInteger(v) && (v as number) >= min;
  if (
    typeof raw?.url !== 'string' ||
    !isCount(raw.shards, 1) ||
    !isCount(limit?.total, 0) ||
    !isCount(limit?.remaining, 0) ||
    typeof limit?.reset_after !== 'number' ||
    !(limit.reset_after >= 0) ||
    !isCount(limit?.max_concurrency, 1)
  ) {
    throw new ProtocolError(`GET ${ROUTE} returned a body that is not the documented shape`);
  }
  return {
    url: raw.url,
    shards: raw.shards,
    sessionStartLimit: {
      total: limit.total as number,
      remaining: limit.remaining as number,
      resetAfter: limit.reset_after,
      maxConcurrency: limit.max_concurrency as number,
    },
  };
}

/**
 * One GET with `node:http(s)` (no connection kept). The body is read as in {@link fetchGet}:
 * at most {@link MAX_BODY_BYTES}, a longer one (announced or streamed) dropped and read as
 * `null`. Rejects on a network failure or when `signal` aborts, the body included.
 */
function httpGet(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    // Two functions, not an instanceof test: node:http's errors may come from another realm.
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      return true;
    };
    const settle = (answer: HttpAnswer): void => {
      if (finish()) resolve(answer);
    };
    const fail = (error: unknown): void => {
      if (finish()) reject(error);
    };
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(target, { method: 'GET', headers, agent: false }, (response) => {
      const answer = (body: unknown): HttpAnswer => ({
        status: response.statusCode ?? 0,
        header: (name) => headerOf(response, name),
        body,
      });
      if (Number(response.headers['content-length']) > MAX_BODY_BYTES) {
        settle(answer(null));
        request.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      response.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total <= MAX_BODY_BYTES) chunks.push(chunk);
        else {
          settle(answer(null));
          request.destroy();
        }
      });
      response.on('end', () => settle(answer(parseJson(Buffer.concat(chunks, total)))));
      response.on('error', fail);
    });
    // The abort is handled here, not by the request's own `signal` option: the request is
    // destroyed and the promise rejected at once, whatever realm the signal comes from.
    const onAbort = (): void => {
      fail(new Error('aborted'));
      request.destroy();
    };
    request.on('error', fail);
    request.on('close', () => fail(new Error('the connection closed before the answer ended')));
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      request.end();
    }
  });
}

function headerOf(response: IncomingMessage, name: string): string | null {
  const value = response.headers[name.toLowerCase()];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

/** One GET through an injected `fetch` (see {@link FetchGatewayBotOptions.fetch}). */
async function fetchGet(
  doFetch: typeof fetch,
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<HttpAnswer> {
  const response = await doFetch(url, { method: 'GET', headers, signal });
  return {
    status: response.status,
    header: (name) => response.headers.get(name),
    body: await readBody(response),
  };
}

/**
 * The body as JSON, or `null` when it is not JSON. Reads at most {@link MAX_BODY_BYTES}:
 * a longer body (announced or streamed) is cancelled and read as `null`.
 */
async function readBody(response: Response): Promise<unknown> {
  const declared = Number(response.headers.get('content-length'));
  if (response.body === null || declared > MAX_BODY_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    return null;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return parseJson(Buffer.concat(chunks, total));
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
}

/**
 * Discord gives retry_after in seconds (float) in the body and `Retry-After` in the header.
 * Missing, negative or unreadable: 1 s. Huge values stay huge (and then exceed the waiting
 * budget), never wrap around to a short timer.
 */
function retryAfterMs(answer: HttpAnswer): number {
  const fromBody = (answer.body as { retry_after?: unknown } | null)?.retry_after;
  const seconds = typeof fromBody === 'number' ? fromBody : Number(answer.header('retry-after'));
  if (seconds === Infinity) return Number.MAX_SAFE_INTEGER;
  return Number.isFinite(seconds) && seconds > 0
    ? Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(seconds * 1_000))
    : 1_000;
}

function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(new AbortedError(`GET ${ROUTE}`));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Wait before retry `attempt` (0-based) after a network error or a 5xx: 1 s, 2 s, 4 s, ... capped at 30 s. */
function transientBackoffMs(attempt: number): number {
  return Math.min(30_000, 1_000 * 2 ** attempt);
}

/** Names the network failure (e.g. ECONNREFUSED) without echoing the request. */
function describeNetworkError(error: unknown): string {
  // node:http puts the code on the error itself, fetch on its cause.
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message.slice(0, 200);
  return error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : 'network error';
}
