import type { Inflater, InflaterLimits, TransportCompression } from './inflater.js';
import { NodeZlibInflater } from './node-zlib-inflater.js';
import { FzstdInflater } from './zstd-inflater.js';
import { ZstdNapiInflater, loadZstdNapi } from './zstd-napi-inflater.js';
import { ZlibSyncInflater, loadZlibSync } from './zlib-sync-inflater.js';

/**
 * A new inflater for one connection (GW-EN-4, GW-EN-5, GW-GT-9), using the fastest synchronous
 * implementation this install has:
 *
 * - `zlib-stream`: `zlib-sync` (optional dependency) when it loads, else {@link NodeZlibInflater}.
 * - `zstd-stream`: `zstd-napi` (optional dependency, libzstd, ~25x faster) when it loads, else
 *   `fzstd` (see {@link FzstdInflater} for why not node:zlib's zstd).
 *
 * `inflater.implementation` names the choice (log it at debug level).
 *
 * @throws RangeError when `limits.maxInflatedBytes` is not a positive integer.
 */
export function createInflater(
  compression: TransportCompression,
  limits: InflaterLimits,
): Inflater {
  if (compression === 'zstd-stream') {
    return loadZstdNapi() === null ? new FzstdInflater(limits) : new ZstdNapiInflater(limits);
  }
  return loadZlibSync() === null ? new NodeZlibInflater(limits) : new ZlibSyncInflater(limits);
}
