import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { printable, silentLogger, type GatewayLogger } from '../logger.js';
import { sessionKey } from './memory-session-store.js';
import { copySession, sessionProblem, type Session, type SessionStore } from './session.js';

/** Shape of the store's file. `version` lets a later format coexist. */
interface SessionFile {
  version: 1;
  /** Keyed by `${shardCount}:${shardId}`. */
  sessions: Record<string, Session>;
}

/**
 * A {@link SessionStore} in one JSON file, for restarts on one machine: a bot that shut down
 * with `downResumable()` RESUMEs after a restart instead of spending IDENTIFYs (GW-ID-5).
 *
 * - Keyed by `${shardCount}:${shardId}`: a session stored for another shard count is never
 *   returned.
 * - Every change rewrites the file atomically and durably: a temp file in the same folder,
 *   flushed to disk (fsync), then renamed over the file, and the folder flushed, so a crash or
 *   power loss leaves the old file or the new one, never a torn one. Mode 0o600: a session id
 *   lets anyone holding the token resume the session, so only the owner may read it. The
 *   folder is created (mode 0o700) when missing.
 * - A temp file left by a process killed mid-write (`<file>.<pid>.<random>.tmp`) is deleted by
 *   the first operation of a store on that file, unless its process is still running.
 * - Each operation reads the file afresh, and changes are serialized within the process.
 * - A missing file is an empty store; an unreadable or corrupt one is logged (warn) and
 *   treated as empty, and the next save replaces it. Invalid entries (a session id over 128
 *   characters, a negative sequence, ...) are skipped with a warning.
 */
export class FileSessionStore implements SessionStore {
  private chain: Promise<unknown> = Promise.resolve();
  private swept = false;

  /** @param path the JSON file (e.g. `.discord-sessions.json`). */
  constructor(
    readonly path: string,
    private readonly logger: GatewayLogger = silentLogger,
  ) {}

  load(shardId: number, shardCount: number): Promise<Session | null> {
    return this.serialize(async () => (await this.read())[sessionKey(shardId, shardCount)] ?? null);
  }

  save(shardId: number, shardCount: number, session: Session): Promise<void> {
    const stored = copySession(session);
    return this.serialize(async () => {
      const sessions = await this.read();
      sessions[sessionKey(shardId, shardCount)] = stored;
      await this.write(sessions);
    });
  }

  delete(shardId: number, shardCount: number): Promise<void> {
    return this.serialize(async () => {
      const sessions = await this.read();
      const key = sessionKey(shardId, shardCount);
      if (!(key in sessions)) return;
      delete sessions[key];
      await this.write(sessions);
    });
  }

  /** Every stored session, keyed by `${shardCount}:${shardId}`. */
  entries(): Promise<Record<string, Session>> {
    return this.serialize(() => this.read());
  }

  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.chain.then(operation, operation);
    this.chain = result.catch(() => undefined);
    return result;
  }

  private async read(): Promise<Record<string, Session>> {
    if (!this.swept) {
      this.swept = true;
      await this.sweepTempFiles();
    }
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn(
          `Session file ${this.path} is unreadable (${(error as NodeJS.ErrnoException).code ?? 'error'}); starting without stored sessions`,
        );
      }
      return {};
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.logger.warn(
        `Session file ${this.path} is not valid JSON; starting without stored sessions`,
      );
      return {};
    }
    const stored = (parsed as Partial<SessionFile> | null)?.sessions;
    if (typeof stored !== 'object' || stored === null || (parsed as SessionFile).version !== 1) {
      this.logger.warn(
        `Session file ${this.path} has an unknown format; starting without stored sessions`,
      );
      return {};
    }
    const sessions: Record<string, Session> = {};
    for (const [key, value] of Object.entries(stored)) {
      const problem = /^\d{1,10}:\d{1,10}$/.test(key) ? sessionProblem(value) : 'bad key';
      if (problem === null) {
        sessions[key] = copySession(value);
      } else {
        this.logger.warn(
          `Session file ${this.path}: skipped an invalid entry '${printable(key, 32)}' (${problem})`,
        );
      }
    }
    return sessions;
  }

  /** Deletes temp files of writes that never finished (their process died). */
  private async sweepTempFiles(): Promise<void> {
    const folder = dirname(this.path);
    const prefix = `${basename(this.path)}.`;
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      return; // no folder yet: nothing to sweep
    }
    for (const name of names) {
      const pid = name.startsWith(prefix) ? tempFilePid(name.slice(prefix.length)) : null;
      if (pid === null || (pid !== process.pid && isRunning(pid))) continue;
      // Another store of this process (same file) may be writing it right now.
      if (pid === process.pid && inFlight.has(join(folder, name))) continue;
      try {
        await rm(join(folder, name), { force: true });
        this.logger.warn(`Session file ${this.path}: deleted ${name}, left by an unfinished write`);
      } catch (error) {
        this.logger.warn(
          `Session file ${this.path}: cannot delete ${name} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
    }
  }

  private async write(sessions: Record<string, Session>): Promise<void> {
    const content: SessionFile = { version: 1, sessions };
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    inFlight.add(join(dirname(this.path), basename(temp)));
    try {
      const file = await open(temp, 'wx', 0o600);
      try {
        await file.writeFile(JSON.stringify(content, null, 2) + '\n');
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    } finally {
      inFlight.delete(join(dirname(this.path), basename(temp)));
    }
    await syncFolder(dirname(this.path));
  }
}

/**
 * Temp files this process is writing now, by path. A pid alone cannot tell them from the
 * leftovers of a killed process that had the same pid (pid 1 in a container, say).
 */
const inFlight = new Set<string>();

/** The pid in a temp file name's tail `<pid>.<12 hex digits>.tmp`, or `null` for any other name. */
function tempFilePid(tail: string): number | null {
  const match = /^(\d{1,10})\.[0-9a-f]{12}\.tmp$/.exec(tail);
  return match === null ? null : Number(match[1]);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes a rename durable; a platform that cannot open a folder for sync (Windows) skips it. */
async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // The data itself was synced before the rename; only the rename's durability is at stake.
  } finally {
    await handle?.close();
  }
}
