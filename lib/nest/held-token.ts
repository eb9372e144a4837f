import { inspect } from 'node:util';
import type { GatewayModuleOptions } from './interfaces/gateway-module-options.interface.js';

const REDACTED = '[redacted]';

/**
 * The `token` of the module options while they sit in the Nest container, as the user gave it
 * (not yet validated): it prints as `[redacted]` in every rendering, so inspecting the
 * application, a module or a provider never shows it (README: Security). Only option
 * resolution takes the value back out, to validate it and turn it into the core's `Token`.
 */
export class HeldToken {
  readonly #value: unknown;

  private constructor(value: unknown) {
    this.#value = value;
  }

  /** A copy of `options` whose string `token` is held; anything else as it is. */
  static hold(options: GatewayModuleOptions): GatewayModuleOptions {
    if (typeof options !== 'object' || options === null || typeof options.token !== 'string') {
      return options;
    }
    return { ...options, token: new HeldToken(options.token) as unknown as string };
  }

  /** The value a {@link HeldToken} holds, or `value` itself when it is not one. */
  static release(value: unknown): unknown {
    return value instanceof HeldToken ? value.#value : value;
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
