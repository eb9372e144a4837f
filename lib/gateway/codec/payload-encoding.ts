/**
 * How gateway payloads are encoded (GW-URL-2, GW-EN-1, GW-EN-2): the
 * `encoding` query parameter. One instance serves every connection; it holds no state.
 */
export interface PayloadEncoding {
  /** The `encoding` query value. */
  readonly name: 'json' | 'etf';
  /**
   * Decodes one complete (inflated) gateway message.
   * @throws DecodeError when the message is not valid in this encoding.
   */
  decode(message: Buffer | string): unknown;
  /** Encodes one client payload for sending (text for JSON, bytes for ETF). Size checks are the caller's. */
  encode(payload: unknown): string | Buffer;
}
