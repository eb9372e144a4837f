import { plainToInstance, Transform } from 'class-transformer';
import {
  ValidateBy,
  ValidateIf,
  ValidateNested,
  type ValidationArguments,
  type ValidationError,
} from 'class-validator';
import { MAX_TIMER_MS } from '../clock/clock.js';
import type { ConfigIssue } from '../errors/index.js';

/*
 * Validation rules shared by the option classes (config) and the send-command classes
 * (shard/commands). Every rule carries its own human text, and no text ever contains the
 * value it judged: values can hold the token (issue 6, Security).
 */

export { MAX_TIMER_MS };

type Predicate = (value: unknown, args: ValidationArguments) => boolean;

/** A property rule: `predicate` must hold, otherwise the issue's rule text is `message`. */
export function Rule(
  name: string,
  message: string | ((args: ValidationArguments) => string),
  predicate: Predicate,
): PropertyDecorator {
  return ValidateBy({
    name,
    validator: {
      validate: predicate,
      defaultMessage: typeof message === 'string' ? () => message : message,
    },
  });
}

/** Applies several property decorators in order. */
export function All(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => {
    for (const decorate of decorators) decorate(target, key);
  };
}

/** The property may be absent (`undefined`); `null` is still judged by the other rules. */
export function Optional(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}

export const isInteger = (value: unknown): value is number => Number.isSafeInteger(value);

/** An integer in `[min, max]`. */
export function IntInRange(min: number, max: number, message?: string): PropertyDecorator {
  return Rule(
    'intInRange',
    message ?? `must be an integer between ${min} and ${max}`,
    (value) => isInteger(value) && value >= min && value <= max,
  );
}

/** An integer `>= min`. */
export function IntAtLeast(min: number, message?: string): PropertyDecorator {
  return Rule(
    'intAtLeast',
    message ?? (min === 1 ? 'must be a positive integer' : `must be an integer >= ${min}`),
    (value) => isInteger(value) && value >= min,
  );
}

/** A timer length: an integer of milliseconds in `[min, max]` (default 1 to what setTimeout honours). */
export function Millis(max = MAX_TIMER_MS, min = 1): PropertyDecorator {
  return IntInRange(
    min,
    max,
    min === 1
      ? `must be a positive integer of milliseconds (at most ${max})`
      : `must be an integer of milliseconds between ${min} and ${max}`,
  );
}

/** A safety margin: an integer of milliseconds from 0 to a minute. */
export function MarginMillis(): PropertyDecorator {
  return IntInRange(0, 60_000, 'must be an integer of milliseconds between 0 and 60000');
}

/** One of the given literals. */
export function OneOf(values: readonly (string | number)[]): PropertyDecorator {
  const list = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');
  return Rule('oneOf', `must be one of ${list}`, (value) =>
    values.includes(value as string | number),
  );
}

export function Bool(): PropertyDecorator {
  return Rule('boolean', 'must be a boolean', (value) => typeof value === 'boolean');
}

export function NonEmptyString(message = 'must be a non-empty string'): PropertyDecorator {
  return Rule('nonEmptyString', message, (value) => typeof value === 'string' && value.length > 0);
}

/** A Discord id: a decimal string of at most 20 digits that fits 64 bits (GW-GT-17). */
export function isSnowflake(value: unknown): value is string {
  return typeof value === 'string' && /^\d{1,20}$/.test(value) && BigInt(value) < 1n << 64n;
}

export const SNOWFLAKE_RULE = 'must be a snowflake (a string of up to 20 decimal digits)';

export function Snowflake(): PropertyDecorator {
  return Rule('snowflake', SNOWFLAKE_RULE, isSnowflake);
}

const isPlainObject = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Builds class instances from nested plain objects. (class-transformer's `@Type` would need the
 * global `reflect-metadata` polyfill, which the framework-free core does not load.)
 */
function Instantiate(choose: (raw: unknown) => new () => object): PropertyDecorator {
  const build = (raw: unknown): unknown =>
    isPlainObject(raw) ? plainToInstance(choose(raw), raw) : raw;
  return Transform(({ obj, key }) => {
    const raw = (obj as Record<string, unknown>)[key];
    return Array.isArray(raw) ? raw.map(build) : build(raw);
  });
}

/**
 * A nested object validated by its own class (unknown keys inside are rejected as well).
 * `choose` picks the class from the raw value for union shapes.
 */
export function Nested(
  cls: new () => object,
  message = 'must be an object',
  choose: (raw: unknown) => new () => object = () => cls,
): PropertyDecorator {
  return All(ValidateNested(), Instantiate(choose), Rule('object', message, isPlainObject));
}

/** An array of nested objects, each validated by `cls`. */
export function NestedArray(cls: new () => object, message: string): PropertyDecorator {
  return All(
    ValidateNested(),
    Instantiate(() => cls),
    Rule('array', message, Array.isArray),
  );
}

/**
 * Hands the value to validation untouched (class-transformer would otherwise copy class
 * instances such as a Token field by field, which loses private fields).
 */
export function Opaque(): PropertyDecorator {
  return Transform(({ obj, key }) => (obj as Record<string, unknown>)[key]);
}

const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** 127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || LOOPBACK_V4.test(host);
}

/**
 * Checks a gateway URL (GW-URL-1, GW-URL-4): `wss:`, or `ws:` to a loopback host (any host when
 * `allowInsecure`), without credentials or fragment. A path (a proxy under a prefix,
 * `wss://proxy.example/discord`) and a query of the user's are kept; the library sets `v`,
 * `encoding` and `compress` itself ({@link connectionUrl}). Returns the normalized URL
 * (`scheme://host[:port]` when there is neither path nor query), or the rule it breaks.
 */
export function checkGatewayUrl(
  value: unknown,
  allowInsecure: boolean,
): { url: string } | { rule: string } {
  const url = parseUrl(value);
  if (url === null || (url.protocol !== 'wss:' && url.protocol !== 'ws:')) {
    return { rule: 'must be a wss: URL (ws: only for a loopback host)' };
  }
  // Every rule the URL breaks, so that one start-up error lists them all.
  const broken: string[] = [];
  if (url.protocol === 'ws:' && !allowInsecure && !isLoopbackHost(url.hostname)) {
    broken.push(
      'may use ws: only for a loopback host (127.0.0.0/8, ::1, localhost) ' +
        'unless allowInsecureGateway is true; use wss:',
    );
  }
  if (url.username !== '' || url.password !== '') broken.push('must not contain credentials');
  if (url.hash !== '') broken.push('must have no fragment');
  if (broken.length > 0) return { rule: broken.join('; it ') };
  const path = url.pathname === '/' ? '' : url.pathname;
  const normalized = `${url.protocol}//${url.host}${path}${url.search}`;
  // The given string when it is already normal: the shards of a cluster then share one copy.
  return { url: normalized === value ? value : normalized };
}

/** The query parameters the library owns on every gateway connection (GW-URL-2). */
export interface ConnectionParams {
  readonly v: number;
  readonly encoding: string;
  /** Transport compression, or `null` for none (any `compress` of the base URL is removed). */
  readonly compress: string | null;
}

/**
 * The URL one connection opens: `base` (a URL checked by {@link checkGatewayUrl}, path and
 * query kept) with `v`, `encoding` and `compress` set through `searchParams`, overwriting any
 * the base carried (GW-URL-2, GW-URL-4, GW-GT-1).
 */
export function connectionUrl(base: string, params: ConnectionParams): string {
  const url = new URL(base);
  url.searchParams.set('v', String(params.v));
  url.searchParams.set('encoding', params.encoding);
  if (params.compress === null) url.searchParams.delete('compress');
  else url.searchParams.set('compress', params.compress);
  return url.href;
}

/**
 * A session's resume URL as handed over or stored: `''` means none (the RESUME goes through
 * the gateway URL, as after a READY without a usable `resume_gateway_url`); anything else
 * follows {@link checkGatewayUrl}.
 */
export function checkSessionResumeUrl(
  value: unknown,
  allowInsecure: boolean,
): { url: string } | { rule: string } {
  return value === '' ? { url: '' } : checkGatewayUrl(value, allowInsecure);
}

/**
 * Checks a resume URL (READY's `resume_gateway_url`, or one stored with a session) before a
 * RESUME carries the token there (GW-URL-4, README: Security): {@link checkSessionResumeUrl}
 * (`''` is none); no downgrade to `ws:` when the gateway URL is `wss:` (unless
 * `allowInsecure`); and a host the token may go to ({@link resumeHostAllowed}).
 */
export function checkResumeUrl(
  value: unknown,
  gatewayUrl: string,
  allowInsecure: boolean,
  trustedResumeHosts: readonly string[] = [],
): { url: string } | { rule: string } {
  const checked = checkSessionResumeUrl(value, allowInsecure);
  if ('rule' in checked || checked.url === '') return checked;
  if (!allowInsecure && gatewayUrl.startsWith('wss:') && !checked.url.startsWith('wss:'))
    return { rule: 'must be wss: like the gateway URL (no downgrade to ws:)' };
  const host = new URL(checked.url).hostname;
  if (!resumeHostAllowed(host, new URL(gatewayUrl).hostname, trustedResumeHosts)) {
    return {
      rule:
        "must be on the gateway URL's host or under its parent domain " +
        '(or a host listed in trustedResumeHosts)',
    };
  }
  return checked;
}

/** A host name, or `*.` and a domain of at least two labels (an entry of `trustedResumeHosts`). */
export function isHostPattern(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const host = value.startsWith('*.') ? value.slice(2) : value;
  if (value.startsWith('*.') && !host.includes('.')) return false;
  return /^[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(host);
}

/**
 * Where a RESUME may carry the token: the gateway host itself; a host under the gateway
 * host's parent domain when that parent still has two labels (`gateway.discord.gg` allows
 * `*.discord.gg`, where Discord's `gateway-us-east1-c.discord.gg` lives); or a host of
 * `trusted`, whose entries are host names, or `*.domain` for every host under `domain`.
 * Case-insensitive; an IP address or a single-label host allows only itself.
 */
export function resumeHostAllowed(
  host: string,
  gatewayHost: string,
  trusted: readonly string[] = [],
): boolean {
  const name = host.toLowerCase();
  const gateway = gatewayHost.toLowerCase();
  if (name === gateway) return true;
  const parent = parentDomain(gateway);
  if (parent !== null && name.endsWith(`.${parent}`)) return true;
  return trusted.some((entry) => {
    const pattern = entry.toLowerCase();
    return pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) : name === pattern;
  });
}

/** `a.b.c` -> `b.c`; null for an IP address or when fewer than two labels would remain. */
function parentDomain(host: string): string | null {
  if (host.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(host)) return null;
  const labels = host.split('.');
  return labels.length >= 3 ? labels.slice(1).join('.') : null;
}

/**
 * Checks the REST API base URL: `https:`, or `http:` to a loopback host (any host when
 * `allowInsecure`), without credentials, query or fragment. Returns it without a trailing
 * slash, or the rule it breaks.
 */
export function checkApiUrl(
  value: unknown,
  allowInsecure: boolean,
): { url: string } | { rule: string } {
  const url = parseUrl(value);
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    return { rule: 'must be an https: URL (http: only for a loopback host)' };
  }
  const broken: string[] = [];
  if (url.protocol === 'http:' && !allowInsecure && !isLoopbackHost(url.hostname)) {
    broken.push(
      'may use http: only for a loopback host (127.0.0.0/8, ::1, localhost) ' +
        'unless allowInsecureGateway is true; use https:',
    );
  }
  if (url.username !== '' || url.password !== '') broken.push('must not contain credentials');
  if (url.search !== '' || url.hash !== '') broken.push('must have no query or fragment');
  if (broken.length > 0) return { rule: broken.join('; it ') };
  return { url: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}` };
}

function parseUrl(value: unknown): URL | null {
  if (typeof value !== 'string') return null;
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

const NESTED_RULE: Record<string, string> = {
  nestedValidation: 'must be an object',
  unknownValue: 'must be an object',
};

/**
 * Flattens class-validator errors into issues: `path` is dotted with `[i]` for array items;
 * unknown keys become `unknownKeyRule`.
 */
export function toIssues(
  errors: readonly ValidationError[],
  unknownKeyRule: string,
  parent = '',
  out: ConfigIssue[] = [],
): ConfigIssue[] {
  for (const error of errors) {
    const path = joinPath(parent, error.property);
    for (const [type, message] of Object.entries(error.constraints ?? {})) {
      out.push({
        path,
        rule: type === 'whitelistValidation' ? unknownKeyRule : (NESTED_RULE[type] ?? message),
      });
    }
    if (error.children !== undefined) toIssues(error.children, unknownKeyRule, path, out);
  }
  return out;
}

export function joinPath(parent: string, property: string | undefined): string {
  if (property === undefined || property === '') return parent;
  if (/^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent === '' ? property : `${parent}.${property}`;
}

/**
 * Keys class-transformer skips instead of copying (`__proto__`, `constructor`, and names of
 * methods every object inherits, such as `toString`), so whitelisting never sees them.
 * Walks the raw input beside the instance built from it.
 */
export function droppedKeys(
  raw: unknown,
  instance: unknown,
  unknownKeyRule: string,
  parent = '',
  out: ConfigIssue[] = [],
): ConfigIssue[] {
  if (!isPlainObject(raw) || typeof instance !== 'object' || instance === null) return out;
  if (Object.getPrototypeOf(instance) === Object.prototype) return out;
  const built = instance as Record<string, unknown>;
  for (const key of Object.keys(raw as object)) {
    const value = (raw as Record<string, unknown>)[key];
    const path = joinPath(parent, key);
    if (!Object.prototype.hasOwnProperty.call(built, key)) {
      if (value !== undefined) out.push({ path, rule: unknownKeyRule });
    } else if (Array.isArray(value) && Array.isArray(built[key])) {
      value.forEach((item, index) =>
        droppedKeys(
          item,
          (built[key] as unknown[])[index],
          unknownKeyRule,
          joinPath(path, String(index)),
          out,
        ),
      );
    } else {
      droppedKeys(value, built[key], unknownKeyRule, path, out);
    }
  }
  return out;
}
