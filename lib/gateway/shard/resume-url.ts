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
  /** The configured gateway URL, path and query kept. */
  readonly baseUrl: string;
  private readonly params: ConnectionParams;
  private readonly maxFailures: number;
  private readonly allowInsecure: boolean;
  private readonly trustedHosts: readonly string[];
  private readonly throughGateway: boolean;
  /** READY resume URLs already refused and reported: one report per distinct URL. */
  private readonly refused = new Set<string>();
  private failures = 0;

  constructor(
    config: ShardConfig,
    private readonly logger: GatewayLogger,
    private readonly prefix: string,
  ) {
    this.baseUrl = config.gatewayUrl;
    this.params = {
      v: API_VERSION,
      encoding: config.encoding,
      compress: config.compression === 'none' ? null : config.compression,
    };
    this.maxFailures = config.reconnect.resumeUrlFailures;
    this.allowInsecure = config.allowInsecureGateway;
    this.trustedHosts = config.trustedResumeHosts;
    this.throughGateway = config.resumeThroughGateway;
  }

  /** Whether a connection that `resuming` (sends RESUME) goes to the resume URL. */
  usesResumeUrl(resuming: boolean): boolean {
    return resuming && this.url !== null && !this.throughGateway;
  }

  /** The URL, query included, a connection that is `resuming` or not opens. */
  target(resuming: boolean): string {
    if (!this.usesResumeUrl(resuming)) return connectionUrl(this.baseUrl, this.params);
    const url = new URL(this.url as string);
    for (const [name, value] of new URL(this.baseUrl).searchParams) {
      if (!url.searchParams.has(name)) url.searchParams.append(name, value);
    }
    return connectionUrl(url.href, this.params);
  }

  /** HELLO arrived: the URL `conn` used works. */
  helloReceived(conn: Connection): void {
    if (conn.viaResumeUrl) this.failures = 0;
  }

  /** `conn` ended: one more failure of the resume URL when it never got HELLO through it. */
  connectionEnded(conn: Connection): void {
    if (!conn.viaResumeUrl || conn.helloReceived) return;
    this.failures++;
    if (this.failures >= this.maxFailures && this.url !== null) {
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
    if (value === undefined || value === null || value === '' || this.throughGateway)
      return { url: null };
    const checked = checkResumeUrl(value, this.baseUrl, this.allowInsecure, this.trustedHosts);
    if ('url' in checked) return checked;
    const key = String(value);
    const repeated = this.refused.has(key);
    // Bounded: a gateway that sends a new bad URL in every READY must not grow it for ever.
    if (!repeated && this.refused.size < 64) this.refused.add(key);
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
