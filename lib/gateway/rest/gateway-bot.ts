import { systemClock, type Clock } from '../clock/clock.js';
import { AbortedError, HttpError, ProtocolError } from '../errors/errors.js';
import { silentLogger, type GatewayLogger } from '../logger.js';
import { DEFAULT_USER_AGENT } from './user-agent.js';

/** GET /gateway/bot, camel-cased (PROTOCOL.md section 12). */
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
  /** Paces the retry waits. Default {@link systemClock}. */
  readonly clock?: Clock;
  readonly logger?: GatewayLogger;
  /** Default global `fetch`. */
  readonly fetch?: typeof fetch;
}

const ROUTE = '/gateway/bot';

/**
 * Fetches GET /gateway/bot (PROTOCOL.md section 12): recommended shard count, gateway URL and
 * `session_start_limit`. Sends `Authorization: Bot <token>` (GW-GT-20) and Discord's
 * `User-Agent`. A 429 is retried after its retry-after (seconds, from the body or the header);
 * a network error or a 5xx after 1 s, 2 s, 4 s, ... (capped at 30 s); each waited on `clock`,
 * up to `maxRetries` retries in all. Other failures (401: the token was rejected) throw at once.
 *
 * @throws HttpError on a non-2xx answer or a network failure (message never holds the token or headers)
 * @throws ProtocolError when the body is not the documented shape
 * @throws AbortedError when `signal` aborts
 */
export async function fetchGatewayBot(options: FetchGatewayBotOptions): Promise<GatewayBotInfo> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxRetries = options.maxRetries ?? 5;
  const doFetch = options.fetch ?? fetch;
  const url = `${options.apiUrl.replace(/\/+$/, '')}${ROUTE}`;
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted) throw new AbortedError(`GET ${ROUTE}`);
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'GET',
        headers: {
          Authorization: `Bot ${typeof options.token === 'string' ? options.token : options.token.reveal()}`,
          'User-Agent': options.userAgent ?? DEFAULT_USER_AGENT,
          Accept: 'application/json',
        },
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw new AbortedError(`GET ${ROUTE}`);
      const cause = describeNetworkError(error);
      if (attempt < maxRetries) {
        const waitMs = transientBackoffMs(attempt);
        logger.warn(
          `GET ${ROUTE} failed (${cause}); retrying in ${waitMs} ms (${attempt + 1}/${maxRetries})`,
        );
        await sleep(clock, waitMs, options.signal);
        continue;
      }
      throw new HttpError(0, ROUTE, `GET ${ROUTE} failed: ${cause}`);
    }
    const body = await readBody(response);
    if (response.status >= 500 && attempt < maxRetries) {
      const waitMs = transientBackoffMs(attempt);
      logger.warn(
        `GET ${ROUTE} answered HTTP ${response.status}; retrying in ${waitMs} ms (${attempt + 1}/${maxRetries})`,
      );
      await sleep(clock, waitMs, options.signal);
      continue;
    }
    if (response.status === 429 && attempt < maxRetries) {
      const waitMs = retryAfterMs(response, body);
      logger.warn(
        `GET ${ROUTE} rate limited; retrying in ${waitMs} ms (${attempt + 1}/${maxRetries})`,
      );
      await sleep(clock, waitMs, options.signal);
      continue;
    }
    if (!response.ok) {
      const detail =
        typeof (body as { message?: unknown })?.message === 'string'
          ? (body as { message: string }).message
          : '';
      throw new HttpError(
        response.status,
        ROUTE,
        `GET ${ROUTE} failed with HTTP ${response.status}` +
          (response.status === 401 ? ' (the token was rejected)' : '') +
          (detail ? `: ${detail.slice(0, 200)}` : ''),
      );
    }
    return parseGatewayBot(body);
  }
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

async function readBody(response: Response): Promise<unknown> {
  try {
    return JSON.parse(await response.text());
  } catch {
    return null;
  }
}

/** Discord gives retry_after in seconds (float) in the body and `Retry-After` in the header. */
function retryAfterMs(response: Response, body: unknown): number {
  const fromBody = (body as { retry_after?: unknown } | null)?.retry_after;
  const seconds =
    typeof fromBody === 'number' ? fromBody : Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds * 1_000) : 1_000;
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

/** Names the network failure (e.g. ECONNREFUSED) without echoing the request. */
/** Wait before retry `attempt` (0-based) after a network error or a 5xx: 1 s, 2 s, 4 s, ... capped at 30 s. */
function transientBackoffMs(attempt: number): number {
  return Math.min(30_000, 1_000 * 2 ** attempt);
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message.slice(0, 200);
  return error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : 'network error';
}
