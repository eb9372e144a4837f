import type { FakeClock } from './clock.js';
import type { IdentifyLimits } from './identify-limits.js';
import type { ProtocolConnection } from './protocol-connection.js';
import type { GatewayRecord, ViolationKind } from './recording.js';
import type { SessionRegistry } from './sessions.js';
import type { FakeGatewaySettings } from './settings.js';
import type { TrafficGenerator } from './traffic.js';

/** What the protocol handlers (handshake, commands, connection) share inside one gateway. */
export interface GatewayContext {
  readonly clock: FakeClock;
  readonly settings: FakeGatewaySettings;
  readonly record: GatewayRecord;
  readonly limits: IdentifyLimits;
  readonly sessions: SessionRegistry;
  readonly traffic: TrafficGenerator;
  /** `ws://host:port[/path]` of the resume listener (GW-URL-4). */
  readonly resumeUrl: string;
  /** Clock time (ms) of the last full member-list request per guild (GW-RL-5). */
  readonly memberRequests: Map<string, number>;
  /** Records a violation and, when `closeCode` is given, closes the connection with it. */
  violation(
    kind: ViolationKind,
    connection: ProtocolConnection | null,
    closeCode: number | null,
    detail: string,
  ): void;
}
