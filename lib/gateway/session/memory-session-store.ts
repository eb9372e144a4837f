import { copySession, type Session, type SessionStore } from './session.js';

/**
 * The default {@link SessionStore}: sessions live as long as the process. Keyed by shard id
 * and shard count, so a session stored for another shard count is never returned.
 */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Session>();

  async load(shardId: number, shardCount: number): Promise<Session | null> {
    return this.sessions.get(sessionKey(shardId, shardCount)) ?? null;
  }

  async save(shardId: number, shardCount: number, session: Session): Promise<void> {
    const stored = copySession(session);
    this.sessions.set(sessionKey(shardId, shardCount), stored);
  }

  async delete(shardId: number, shardCount: number): Promise<void> {
    this.sessions.delete(sessionKey(shardId, shardCount));
  }
}

/** The key of a stored session: `${shardCount}:${shardId}`. */
export function sessionKey(shardId: number, shardCount: number): string {
  return `${shardCount}:${shardId}`;
}
