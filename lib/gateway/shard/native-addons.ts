import { createRequire } from 'node:module';

let bufferutil: boolean | undefined;

/**
 * Whether `ws` masks and unmasks frames with the optional `bufferutil` addon (else with its
 * JS fallback, slower on large frames). Checked once, for a debug log line.
 */
export function hasBufferutil(): boolean {
  if (bufferutil === undefined) {
    try {
      createRequire(import.meta.url)('bufferutil');
      bufferutil = true;
    } catch {
      bufferutil = false;
    }
  }
  return bufferutil;
}
