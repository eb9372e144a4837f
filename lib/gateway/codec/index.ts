export { createInflater } from './create-inflater.js';
export type { Inflater, InflaterLimits, TransportCompression } from './inflater.js';
export { NodeZlibInflater } from './node-zlib-inflater.js';
export { ZlibSyncInflater, loadZlibSync } from './zlib-sync-inflater.js';
export { FzstdInflater } from './zstd-inflater.js';
export { peekHeader, type PayloadHeader } from './peek-header.js';
export type { PayloadEncoding } from './payload-encoding.js';
export { decodeJson, jsonEncoding } from './json-encoding.js';
