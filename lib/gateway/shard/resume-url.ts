import type { ShardConfig } from '../config/index.js';
import { checkResumeUrl } from '../config/rules.js';
import type { GatewayLogger } from '../logger.js';
import type { Connection } from './connection.js';

const API_VERSION = 10;

/**
 * Where a shard connects (GW-URL-4, GW-GT-1): a RESUME goes to the session's resume URL, when
 * there is one, and everything else to the configured gateway URL (the base URL). After
 * `reconnect.resumeUrlFailures` connections in a row through the resume URL that ended
 * before HELLO, it is dropped and the RESUME goes to the base URL. Either way the query
 * names the API version, the encoding and the transport compression.
 */
export class ResumeUrlPolicy {
  /** The session's resume URL, without a trailing slash; `null`: none, use the base URL. */
  url: string | null = null;
  /** The configured gateway URL without a trailing slash. */
  readonly baseUrl: string;
  private readonly query: string;
  private readonly maxFailures: number;
  private readonly allowInsecure: boolean;
  private failures = 0;

  constructor(
    config: ShardConfig,
    private readonly logger: GatewayLogger,
    private readonly prefix: string,
  ) {
    this.baseUrl = stripUrl(config.gatewayUrl);
    const compress = config.compression === 'none' ? '' : `&compress=${config.compression}`;
    this.query = `/?v=${API_VERSION}&encoding=${config.encoding}${compress}`;
    this.maxFailures = config.reconnect.resumeUrlFailures;
    this.allowInsecure = config.allowInsecureGateway;
  }

  /** Whether a connection that `resuming` (sends RESUME) goes to the resume URL. */
  usesResumeUrl(resuming: boolean): boolean {
    return resuming && this.url !== null;
  }

  /** The URL, query included, a connection that is `resuming` or not opens. */
  target(resuming: boolean): string {
    return (this.usesResumeUrl(resuming) ? (this.url as string) : this.baseUrl) + this.query;
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
   * Checks READY's `resume_gateway_url`, held to the rules of a configured gateway URL: the
   * RESUME sent there carries the token. It must be `wss:` (or `ws:` to a loopback host, and
   * never `ws:` when the base URL is `wss:`, unless `allowInsecureGateway`), with no
   * credentials, path, query or fragment. Absent or empty: `null`, the base URL. Changes
   * nothing: pass the URL to {@link accept}, or `null` when a rule was broken.
   */
  check(value: unknown): { url: string | null } | { rule: string } {
    if (value === undefined || value === null || value === '') return { url: null };
    return checkResumeUrl(
      typeof value === 'string' ? stripUrl(value) : value,
      this.baseUrl,
      this.allowInsecure,
    );
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

/** Drops any trailing slash of a gateway URL before the query is appended. */
function stripUrl(url: string): string {
  return url.replace(/\/+$/, '');
}
