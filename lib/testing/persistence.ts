import { readFile, rename, writeFile } from 'node:fs/promises';
import type { BufferedDispatch } from './sessions.js';

/** One session as saved in the state file. The token is kept only as a SHA-256 hash. */
export interface SavedSession {
  id: string;
  shardId: number;
  shardCount: number;
  intents: number;
  tokenHash: string;
  seq: number;
  /** The newest buffered dispatches, oldest first. */
  buffer: BufferedDispatch[];
}

/** The state file's content (JSON). */
export interface GatewayState {
  version: 1;
  /** Wall-clock ms (Date.now()) at save; the downtime gap is measured from it. */
  savedAt: number;
  /** Ports of the run that saved the state; a restart reuses them when free. */
  ports?: { base: number; resume: number };
  sessions: SavedSession[];
  sessionStartLimit: { remaining: number; resetAfterMs: number };
  traffic: { random: number; timeMs: number; increment: number; joined: number };
}

/** Buffered dispatches kept per session in the state file. */
export const SAVED_BUFFER_TAIL = 2_000;

/** Writes the state atomically (temp file, then rename). */
export async function saveState(path: string, state: GatewayState): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  // Owner-only: it names sessions a client could resume (and a hash of their token).
  await writeFile(temp, JSON.stringify(state), { mode: 0o600 });
  await rename(temp, path);
}

/** Reads a state file; null when it does not exist or is not a version-1 state. */
export async function loadState(path: string): Promise<GatewayState | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const state = JSON.parse(text) as GatewayState;
    return state.version === 1 && Array.isArray(state.sessions) ? state : null;
  } catch {
    return null;
  }
}
