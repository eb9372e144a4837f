import { optionalAddon } from '../codec/optional-addon.js';

const loadBufferutil = optionalAddon<object>('bufferutil');

/**
 * Whether `ws` masks and unmasks frames with the optional `bufferutil` addon (else with its
 * JS fallback, slower on large frames). Checked once, for a debug log line.
 */
export function hasBufferutil(): boolean {
  return loadBufferutil() !== null;
}
