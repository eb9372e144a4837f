import type { ShardConfig } from '../config/index.js';
import { checkResumeUrl, connectionUrl, type ConnectionParams } from '../config/rules.js';
import type { GatewayLogger } from '../logger.js';
import type { Connection } from './connection.js';

const API_VERSION = 10;

/**
 * Where a shard connects (GW-URL-4, GW-GT-1): a RESUME goes to the session's resume URL, when
 * there is one (and `resumeThroughGateway` is off), and everything else to the configured
 * gateway URL (the base URL). After `reconnect.resumeUrlFailures` connections in a row through
 * the resume URL that ended before HELLO, it is dropped and the RESUME goes to the base URL.
 * Every URL is built with the WHATWG URL API: the path is kept, the query of the gateway URL
 * is kept (on the resume URL too, under its own parameters), and `v`, `encoding` and
 * `compress` are set by the library.
 */
export class ResumeUrlPolicy {
  /** The session's resume URL (path kept); `null`: none, use the base URL. */
  url: string | null = null;
  /** READY resume URLs refused and reported (one report per distinct URL); made by the first. */
  private refused: Set<string> | null = null;
  private failures = 0;

  constructor(
    private readonly config: ShardConfig,
    private readonly logger: GatewayLogger,
    private readonly prefix: string,
  ) {}

  /** Whether a connection that `resuming` (sends RESUME) goes to the resume URL. */
  usesResumeUrl(resuming: boolean): boolean {
    return resuming && this.url !== null && !this.config.resumeThroughGateway;
  }

  /** The URL, query included, a connection that is `resuming` or not opens. */
  target(resuming: boolean): string {
    const { config } = this;
    if (!this.usesResumeUrl(resuming)) return baseTarget(config);
    const url = new URL(this.url as string);
    for (const [name, value] of new URL(config.gatewayUrl).searchParams) {
      if (!url.searchParams.has(name)) url.searchParams.append(name, value);
    }
    return connectionUrl(url.href, paramsOf(config));
  }

  /** HELLO arrived: the URL `conn` used works. */
  helloReceived(conn: Connection): void {
    if (conn.viaResumeUrl) this.failures = 0;
  }

  /** `conn` ended: one more failure of the resume URL when it never got HELLO through it. */
  connectionEnded(conn: Connection): void {
    if (!conn.viaResumeUrl || conn.helloReceived) return;
    this.failures++;
    if (this.failures >= this.config.reconnect.resumeUrlFailures && this.url !== null) {
      this.logger.warn(
        `${this.prefix} the resume URL failed ${this.failures} times in a row; resuming on the base URL`,
      );
      this.url = null;
      this.failures = 0;
    }
  }

  /**
   * Checks READY's `resume_gateway_url` before a RESUME carries the token there (README:
   * Security): `wss:` (or `ws:` to a loopback host, never `ws:` when the base URL is `wss:`,
   * unless `allowInsecureGateway`), no credentials or fragment, and a host the token may go to
   * (the gateway's host, a host under its parent domain, or `trustedResumeHosts`). A path is
   * fine. Absent or empty, or with `resumeThroughGateway`: `null`, the base URL. Changes
   * nothing but the record of refusals: `repeated` is true when this same URL was refused
   * before (report it once). Pass the URL to {@link accept}, or `null` when refused.
   */
  check(value: unknown): { url: string | null } | { rule: string; repeated: boolean } {
    const { config } = this;
    if (value === undefined || value === null || value === '' || config.resumeThroughGateway)
      return { url: null };
    const checked = checkResumeUrl(
      value,
      config.gatewayUrl,
      config.allowInsecureGateway,
      config.trustedResumeHosts,
    );
    if ('url' in checked) return checked;
    const key = String(value);
    const refused = (this.refused ??= new Set());
    const repeated = refused.has(key);
    // Bounded: a gateway that sends a new bad URL in every READY must not grow it for ever.
    if (!repeated && refused.size < 64) refused.add(key);
    return { rule: checked.rule, repeated };
  }

  /** READY arrived: `url` (see {@link check}) is the new session's resume URL. */
  accept(url: string | null): void {
    this.url = url;
    this.failures = 0;
  }

  /** The session ended: its resume URL with it. */
  drop(): void {
    this.url = null;
    this.failures = 0;
  }
}

function paramsOf(config: ShardConfig): ConnectionParams {
  return {
    v: API_VERSION,
    encoding: config.encoding,
    compress: config.compression === 'none' ? null : config.compression,
  };
}

/** The last base-URL target built, shared by every shard with the same settings. */
let lastBase: { gatewayUrl: string; encoding: string; compression: string; url: string } | null =
  null;

/**
 * The URL a connection to the configured gateway URL opens. The shards of a cluster share one
 * gateway URL and one encoding: they share this string too (one copy, not one per connection).
 */
function baseTarget(config: ShardConfig): string {
  const last = lastBase;
  if (
    last !== null &&
    last.gatewayUrl === config.gatewayUrl &&
    last.encoding === config.encoding &&
    last.compression === config.compression
  )
    return last.url;
  const url = connectionUrl(config.gatewayUrl, paramsOf(config));
  lastBase = {
    gatewayUrl: config.gatewayUrl,
    encoding: config.encoding,
    compression: config.compression,
    url,
  };
  return url;
}
