/**
 * How payloads are encoded on one connection (`encoding=` in the gateway URL, GW-URL-2).
 * JSON is built in; ETF plugs in through `FakeGatewayOptions.encodings` with the same shape.
 */
export interface PayloadEncoder {
  /** The `encoding` query value this encoder serves, e.g. `'json'`. */
  readonly name: string;
  /**
   * Encodes one server payload. A string goes out as a text frame when the connection has
   * no transport compression; a Buffer always goes out as a binary frame.
   */
  encode(payload: unknown): string | Buffer;
  /** Decodes one client message. Throws on anything undecodable (answered with 4002). */
  decode(data: Buffer, isBinary: boolean): unknown;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** `encoding=json`: UTF-8 JSON, decoded strictly (invalid UTF-8 is a decode error). */
export const jsonEncoder: PayloadEncoder = {
  name: 'json',
  encode: (payload) => JSON.stringify(payload),
  decode: (data) => JSON.parse(strictUtf8.decode(data)),
};
