import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { silentLogger, type GatewayLogger } from '../logger.js';
import { sessionKey } from './memory-session-store.js';
import { copySession, toSession, type Session, type SessionStore } from './session.js';

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
 * - Every change rewrites the file atomically (temp file in the same folder, then rename), with
 *   mode 0o600: a session id lets anyone holding the token resume the session, so only the
 *   owner may read it. The folder is created (mode 0o700) when missing.
 * - Each operation reads the file afresh, and changes are serialized within the process.
 * - A missing file is an empty store; an unreadable or corrupt one is logged (warn) and
 *   treated as empty, and the next save replaces it. Invalid entries are skipped.
 */
export class FileSessionStore implements SessionStore {
  private chain: Promise<unknown> = Promise.resolve();

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
      const session = /^\d+:\d+$/.test(key) ? toSession(value) : null;
      if (session !== null) {
        sessions[key] = session;
      } else {
        this.logger.warn(`Session file ${this.path}: skipped an invalid entry '${key}'`);
      }
    }
    return sessions;
  }

  private async write(sessions: Record<string, Session>): Promise<void> {
    const content: SessionFile = { version: 1, sessions };
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}
