import type { SlidingWindow } from './identify-limits.js';
import type { ListenerKind } from './recording.js';
import type { FakeSession, SessionLink } from './sessions.js';
import type { ConnectionScript, GatewayPayload } from './types.js';

/**
 * What the handshake and command handlers need of a client connection. `FakeConnection`
 * implements it; the handlers see only this, so they and the connection do not import each
 * other.
 */
export interface ProtocolConnection extends SessionLink {
  /** Record id of the connection. */
  readonly id: number;
  /** Which listener accepted it: the base gateway URL or the resume URL. */
  readonly listener: ListenerKind;
  /** The session it serves, once IDENTIFY or RESUME was accepted. */
  readonly session: FakeSession | null;
  /** The shard it identified or resumed as, or null. */
  readonly shardId: number | null;
  /** True once READY or RESUMED went out (dispatches are then delivered live). */
  live: boolean;
  /** The presence update limit of this connection (GW-RL-4). */
  readonly presenceWindow: SlidingWindow;
  /** The script it runs (READY delay and withholding are read from it). */
  readonly connectionScript: ConnectionScript;
  /** Encodes and sends one unsequenced payload. */
  send(payload: GatewayPayload): void;
  /** Sends a dispatch through the session (sequenced, buffered for RESUME); returns its sequence or null. */
  dispatch(t: string, d: unknown): number | null;
  /** Sends op 9; `resumable: false` ends the session. */
  invalidateSession(resumable: boolean): void;
  /** Binds the accepted session to this connection. */
  attach(session: FakeSession, auth: 'identify' | 'resume'): void;
  /** Unbinds the session (it stays resumable unless invalidated). */
  detach(): void;
  /** Closes with a close frame carrying `code`. */
  close(code: number, reason?: string): void;
  /** Drops the TCP connection with no close frame. */
  terminate(): void;
  /** Sends `data` as it is (through the compressor). */
  sendRaw(data: string): void;
  /** Schedules work that must die with this connection. */
  schedule(callback: () => void, delayMs: number): void;
}
