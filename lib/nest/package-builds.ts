/**
 * The package ships two complete builds, ES modules and CommonJS, and Node picks one by how
 * the app loads it (`import` or `require()`). A process that loads both holds two of every
 * class, and Nest matches providers by class: a `ClusterService` imported from one build is
 * not the provider that the other build's `GatewayModule` registers, so injection fails. This
 * records each build on a process-wide registry as it loads and warns once, naming both, when
 * the second arrives.
 */
const REGISTRY = Symbol.for('nestjs-discord-gateway.builds');

interface BuildRegistry {
  readonly formats: Set<string>;
  warned: boolean;
}

/** Warning code of a process that loaded both builds. */
export const BOTH_BUILDS_LOADED = 'NESTJS_DISCORD_GATEWAY_BOTH_BUILDS';

/** Records that the build in `format` is loaded; the second format to arrive warns. */
export function recordBuildLoaded(format: 'CommonJS' | 'ES module'): void {
  const global = globalThis as { [REGISTRY]?: BuildRegistry };
  const registry = (global[REGISTRY] ??= { formats: new Set(), warned: false });
  registry.formats.add(format);
  if (registry.formats.size < 2 || registry.warned) return;
  registry.warned = true;
  process.emitWarning(
    'nestjs-discord-gateway was loaded both with import and with require(): its classes exist ' +
      'twice, and Nest will not inject a provider of one copy where the other is expected. ' +
      'Load it one way throughout the app (all import, or all require()).',
    { code: BOTH_BUILDS_LOADED },
  );
}

/**
 * The format of the build this file belongs to: CommonJS wraps each module in a function that
 * defines `__filename`; an ES module has none.
 */
export const thisBuildFormat: 'CommonJS' | 'ES module' =
  typeof __filename === 'string' ? 'CommonJS' : 'ES module';
