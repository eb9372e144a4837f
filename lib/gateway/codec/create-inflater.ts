import type { Inflater, InflaterLimits, TransportCompression } from './inflater.js';
import { NodeZlibInflater } from './node-zlib-inflater.js';
import { FzstdInflater, NodeZstdInflater, hasNodeZstd } from './zstd-inflater.js';
import { ZlibSyncInflater, loadZlibSync } from './zlib-sync-inflater.js';

let nodeZstd: boolean | undefined;

/**
 * A new inflater for one connection (GW-EN-4, GW-EN-5, GW-GT-9), using the fastest synchronous
 * implementation this install has:
 *
 * - `zlib-stream`: `zlib-sync` (optional dependency) when it loads, else {@link NodeZlibInflater}.
 * - `zstd-stream`: node:zlib's zstd where the runtime has it (Node >= 22.15), else `fzstd`.
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
    nodeZstd ??= hasNodeZstd();
    return nodeZstd ? new NodeZstdInflater(limits) : new FzstdInflater(limits);
  }
  return loadZlibSync() === null ? new NodeZlibInflater(limits) : new ZlibSyncInflater(limits);
}
