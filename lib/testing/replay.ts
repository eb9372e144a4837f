import { readFile } from 'node:fs/promises';
import type { GatewayPayload } from './types.js';

/**
 * Reads gateway payloads from a JSON-lines recording (one `{op, d, s, t}` per line, blank
 * lines ignored), from a file path or from lines/payloads already in memory.
 * Throws with the line number when a line is not a payload.
 */
export async function readRecording(
  source: string | readonly (string | GatewayPayload)[],
): Promise<GatewayPayload[]> {
  const items: readonly (string | GatewayPayload)[] =
    typeof source === 'string' ? (await readFile(source, 'utf8')).split('\n') : source;
  const payloads: GatewayPayload[] = [];
  items.forEach((item, index) => {
    if (typeof item === 'string' && item.trim() === '') return;
    let payload: unknown;
    try {
      payload = typeof item === 'string' ? JSON.parse(item) : item;
    } catch {
      throw new Error(`recording line ${index + 1}: not JSON`);
    }
    if (
      typeof payload !== 'object' ||
      payload === null ||
      !Number.isInteger((payload as GatewayPayload).op)
    ) {
      throw new Error(`recording line ${index + 1}: not a gateway payload ({op, d, s, t})`);
    }
    payloads.push(payload as GatewayPayload);
  });
  return payloads;
}
