export {
  MAX_RESUME_URL_LENGTH,
  MAX_SESSION_ID_LENGTH,
  copySession,
  sessionIdProblem,
  sessionProblem,
  toSession,
  type Session,
  type SessionStore,
} from './session.js';
export { MemorySessionStore } from './memory-session-store.js';
export { FileSessionStore } from './file-session-store.js';
