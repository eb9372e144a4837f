import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeClock } from './clock.js';
import type { IdentifyLimits } from './identify-limits.js';
import type { GatewayRecord, HttpRequestRecord } from './recording.js';
import { messageFields, type TrafficGenerator } from './traffic.js';

/** A scripted 429 for the next `count` requests to `path`. */
export interface HttpRateLimitOptions {
  /** Path the rule applies to. Default `'/api/v10/gateway/bot'`. */
  path?: string;
  /** Requests to answer with 429. Default 1. */
  count?: number;
  /** `retry_after` and the `Retry-After` header, seconds. Default 1. */
  retryAfterS?: number;
  /** Marks the limit as global. Default false. */
  global?: boolean;
}

/** What the REST surface needs from the gateway. */
export interface RestContext {
  readonly clock: FakeClock;
  readonly record: GatewayRecord;
  readonly tokens: ReadonlySet<string>;
  readonly limits: IdentifyLimits;
  readonly traffic: TrafficGenerator;
  readonly shards: number;
  /** The base gateway URL `/gateway` and `/gateway/bot` answer with. */
  gatewayUrl(): string;
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The REST routes a gateway client and the sample bot use, each request recorded (the
 * Authorization header only as `authorized: boolean`, never its value):
 * - `GET /api/v10/gateway` -> `{url}` (no auth)
 * - `GET /api/v10/gateway/bot` -> `{url, shards, session_start_limit}` (Bot auth, else 401; GW-URL-1, section 12)
 * - `POST /api/v10/channels/:id/messages` -> a message object (Bot auth)
 * - `POST /api/v10/interactions/:id/:token/callback` -> 204
 */
export class RestApi {
  private readonly rateLimits: Required<HttpRateLimitOptions>[] = [];

  constructor(private readonly ctx: RestContext) {}

  /** Answers the next `count` requests to `path` with 429 and `retry_after`. */
  rateLimit(options: HttpRateLimitOptions = {}): void {
    this.rateLimits.push({
      path: options.path ?? '/api/v10/gateway/bot',
      count: options.count ?? 1,
      retryAfterS: options.retryAfterS ?? 1,
      global: options.global ?? false,
    });
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => this.respond(req, res, Buffer.concat(chunks)));
    req.on('error', () => res.destroy());
  }

  private respond(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const pathname = path.split('?')[0];
    const entry: HttpRequestRecord = {
      method,
      path,
      body: parseBody(req, raw),
      userAgent: req.headers['user-agent'] ?? null,
      authorized: this.authorized(req.headers.authorization),
      status: 0,
      at: this.ctx.clock.now(),
    };
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}): void => {
      entry.status = status;
      this.ctx.record.add('http', entry);
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        'content-length': String(Buffer.byteLength(text)),
        ...headers,
      });
      res.end(text);
    };
    const limited = this.rateLimits.find((rule) => rule.path === pathname && rule.count > 0);
    if (limited) {
      limited.count--;
      if (limited.count === 0) this.rateLimits.splice(this.rateLimits.indexOf(limited), 1);
      return reply(
        429,
        {
          message: 'You are being rate limited.',
          retry_after: limited.retryAfterS,
          global: limited.global,
        },
        {
          'retry-after': String(Math.ceil(limited.retryAfterS)),
          'x-ratelimit-scope': limited.global ? 'global' : 'user',
          ...(limited.global ? { 'x-ratelimit-global': 'true' } : {}),
        },
      );
    }
    const unauthorized = (): void => reply(401, { message: '401: Unauthorized', code: 0 });
    if (method === 'GET' && pathname === '/api/v10/gateway')
      return reply(200, { url: this.ctx.gatewayUrl() });
    if (method === 'GET' && pathname === '/api/v10/gateway/bot') {
      if (!entry.authorized) return unauthorized();
      return reply(200, {
        url: this.ctx.gatewayUrl(),
        shards: this.ctx.shards,
        session_start_limit: this.ctx.limits.snapshot(),
      });
    }
    const message = /^\/api\/v10\/channels\/(\d+)\/messages$/.exec(pathname);
    if (method === 'POST' && message) {
      if (!entry.authorized) return unauthorized();
      return reply(200, this.messageObject(message[1], entry.body));
    }
    if (method === 'POST' && /^\/api\/v10\/interactions\/\d+\/[^/]+\/callback$/.test(pathname))
      return reply(204);
    reply(404, { message: '404: Not Found', code: 0 });
  }

  private authorized(header: string | undefined): boolean {
    return (
      header !== undefined && header.startsWith('Bot ') && this.ctx.tokens.has(header.slice(4))
    );
  }

  private messageObject(channelId: string, body: unknown): Record<string, unknown> {
    const fields =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    return {
      ...messageFields(
        this.ctx.traffic.nextId(),
        channelId,
        this.ctx.traffic.botUser,
        typeof fields.content === 'string' ? fields.content : '',
        Date.now(),
      ),
      embeds: Array.isArray(fields.embeds) ? fields.embeds : [],
      ...(fields.message_reference ? { message_reference: fields.message_reference } : {}),
    };
  }
}

function parseBody(req: IncomingMessage, raw: Buffer): unknown {
  if (raw.length === 0) return null;
  const text = raw.toString('utf8');
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
