import zlib from 'node:zlib';
import WebSocket from 'ws';

/** A decoded server payload as the raw client saw it. */
export interface Received {
  op: number;
  d: any;
  s?: number | null;
  t?: string | null;
  /** The exact text of the message (after inflating). */
  text: string;
}

export interface RawConnectOptions {
  /** Query string without `?`. Default `v=10&encoding=json`. */
  query?: string;
  /** Path appended to the URL. Default `/`. */
  path?: string;
}

const SUFFIX = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * A bare `ws` gateway client for FakeGateway's own tests: it does only what a test tells it
 * (no heartbeat timer, no reconnect), decodes JSON and zlib-stream (one createInflate per
 * connection, buffering until the 00 00 ff ff suffix), and keeps everything it received.
 */
export class RawClient {
  readonly received: Received[] = [];
  /** WebSocket messages received (a split zlib message counts once per part). */
  wsMessages = 0;
  /** Every WebSocket message as it arrived, before any decoding. */
  readonly rawMessages: Buffer[] = [];
  closeCode: number | null = null;
  closeReason = '';
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters = new Set<() => void>();
  private readonly inflate: zlib.Inflate | null;
  private pending: Buffer[] = [];
  private inflated: Buffer[] = [];

  private constructor(
    readonly ws: WebSocket,
    compressed: boolean,
  ) {
    this.inflate = compressed ? zlib.createInflate() : null;
    this.inflate?.on('data', (chunk: Buffer) => this.inflated.push(chunk));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.inflate?.close();
        this.notify();
        resolve({ code, reason: this.closeReason });
      });
    });
    ws.on('error', () => undefined);
  }

  /** Opens a connection; rejects with `Error('HTTP <status>: <body>')` when the upgrade is refused. */
  static connect(base: string, options: RawConnectOptions = {}): Promise<RawClient> {
    const query = options.query ?? 'v=10&encoding=json';
    const ws = new WebSocket(`${base}${options.path ?? '/'}?${query}`, {
      skipUTF8Validation: true,
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawClient(ws, query.includes('compress=zlib-stream'))));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${body}`)));
      });
      ws.once('error', (error) => reject(error));
    });
  }

  send(payload: unknown): void {
    this.ws.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }

  /** Resolves with the first received payload (from the start) matching `match`. */
  waitFor(match: (p: Received) => boolean, timeoutMs = 3_000): Promise<Received> {
    return this.until(() => this.received.find(match), timeoutMs);
  }

  /** Resolves with the first received payload after index `from` with this op (and t). */
  next(op: number, t?: string, from = 0, timeoutMs = 3_000): Promise<Received> {
    return this.until(
      () => this.received.slice(from).find((p) => p.op === op && (t === undefined || p.t === t)),
      timeoutMs,
    );
  }

  /** Resolves once `check()` returns something truthy (re-checked on every message and close). */
  until<T>(check: () => T | undefined | false | null, timeoutMs = 3_000): Promise<T> {
    const first = check();
    if (first) return Promise.resolve(first);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error('RawClient: timed out'));
      }, timeoutMs);
      const waiter = (): void => {
        const value = check();
        if (value) {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(value);
        }
      };
      this.waiters.add(waiter);
    });
  }

  /** Dispatches received, in order. */
  dispatches(): Received[] {
    return this.received.filter((p) => p.op === 0);
  }

  /** IDENTIFY with sensible defaults. */
  identify(token: string, fields: Record<string, unknown> = {}): void {
    this.send({
      op: 2,
      d: {
        token,
        intents: 513,
        properties: { os: 'linux', browser: 'raw', device: 'raw' },
        ...fields,
      },
    });
  }

  close(code = 1000): Promise<{ code: number; reason: string }> {
    this.ws.close(code);
    return this.closed;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.wsMessages++;
    this.rawMessages.push(data);
    if (this.inflate === null) {
      this.push(isBinary ? data.toString('latin1') : data.toString('utf8'));
      return;
    }
    this.pending.push(data);
    if (data.length < 4 || !data.subarray(-4).equals(SUFFIX)) return;
    const message = Buffer.concat(this.pending);
    this.pending = [];
    this.inflate.write(message);
    this.inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      const text = Buffer.concat(this.inflated).toString('utf8');
      this.inflated = [];
      this.push(text);
    });
  }

  private push(text: string): void {
    let payload: any;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = { op: -1, d: null };
    }
    this.received.push({ ...payload, text });
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
