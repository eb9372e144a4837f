import { addonRequire } from './addon-require.cjs';

/**
 * A loader of an optional native dependency (zlib-sync, zstd-napi, bufferutil): it
 * requires `id` once, on first call, and returns the module, or `null` for good when it is
 * not installed or did not build. The package works without each of them, slower.
 */
export function optionalAddon<T>(id: string): () => T | null {
  let loaded: T | null | undefined;
  return () => {
    if (loaded === undefined) {
      try {
        loaded = addonRequire(id) as T;
      } catch {
        loaded = null;
      }
    }
    return loaded;
  };
}
