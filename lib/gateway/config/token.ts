import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A bot token that cannot leak by accident. The raw value lives in a true private field:
 * `util.inspect` (any depth, `showHidden`, even `customInspect: false`), `JSON.stringify`,
 * `String()`, template literals and `structuredClone` all yield `'[redacted]'` or nothing.
 *
 * Only the code that builds IDENTIFY (op 2) and RESUME (op 6) payloads calls {@link reveal}
 * (GW-GT-20: the gateway gets the raw token, without a `Bot ` prefix).
 */
export class Token {
  readonly #value: string;

  /** @param value the raw token, already validated and stripped of its `Bot ` prefix. */
  constructor(value: string) {
    this.#value = value;
  }

  /** The raw token. Call it only where the IDENTIFY or RESUME payload is built. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
