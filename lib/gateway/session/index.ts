export { copySession, toSession, type Session, type SessionStore } from './session.js';
export { MemorySessionStore } from './memory-session-store.js';
export { FileSessionStore } from './file-session-store.js';
