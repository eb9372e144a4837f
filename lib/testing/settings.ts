import { jsonEncoder, type PayloadEncoder } from './encoding.js';
import { etfEncoder } from './etf-encoding.js';
import { PRIVILEGED_INTENTS } from './intents.js';
import type { Transit, TransitOptions } from './network.js';
import type { AckForm, ConnectionScript, FakeGatewayOptions } from './types.js';

/** The token the FakeGateway accepts when `tokens` is not given. */
export const DEFAULT_FAKE_TOKEN = 'fake-gateway-token';

/** {@link FakeGatewayOptions} with every default filled in. */
export interface FakeGatewaySettings {
  readonly host: string;
  readonly port: number;
  readonly resumePort: number;
  readonly resumePath: string;
  readonly tokens: ReadonlySet<string>;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatGraceMs: number;
  readonly trace: boolean;
  readonly ackForm: AckForm;
  readonly heartbeatRequestDeadlineMs: number;
  readonly connection: ConnectionScript;
  readonly sendLimit: { readonly limit: number; readonly windowMs: number };
  readonly presenceLimit: { readonly limit: number; readonly windowMs: number };
  readonly apiVersions: ReadonlySet<number>;
  readonly shards: number;
  readonly shardCountMultiple: number;
  readonly maxGuildsPerShard: number;
  readonly grantedIntents: number;
  readonly sessionTimeoutMs: number;
  readonly replayBufferSize: number;
  readonly unavailableGuildIds: ReadonlySet<string>;
  readonly unavailableAs: 'GUILD_DELETE' | 'GUILD_CREATE';
  readonly memberChunkSize: number;
  readonly memberChunkCount: number | null;
  readonly memberRequestWindowMs: number;
  readonly echoPresence: boolean;
  readonly encodings: ReadonlyMap<string, PayloadEncoder>;
  readonly trafficRatePerSecond: number;
  readonly maxGapEvents: number;
  readonly stateFile: string | null;
  readonly network: {
    readonly inbound: Transit;
    readonly outbound: Transit;
    readonly seed: number;
  };
}

/** Real gateway heartbeat interval and send window (GW-HB-1, GW-RL-1). */
const REAL_INTERVAL_MS = 41_250;
const REAL_SEND_WINDOW_MS = 60_000;

export function resolveSettings(options: FakeGatewayOptions): FakeGatewaySettings {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? REAL_INTERVAL_MS;
  const scaledWindow =
    heartbeatIntervalMs < REAL_INTERVAL_MS
      ? Math.max(1, Math.round((REAL_SEND_WINDOW_MS * heartbeatIntervalMs) / REAL_INTERVAL_MS))
      : REAL_SEND_WINDOW_MS;
  const encodings = new Map<string, PayloadEncoder>([
    ['json', jsonEncoder],
    ['etf', etfEncoder],
  ]);
  for (const [name, encoder] of Object.entries(options.encodings ?? {}))
    encodings.set(name, encoder);
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    resumePort: options.resumePort ?? 0,
    resumePath: options.resumePath ?? '',
    tokens: new Set(options.tokens ?? [DEFAULT_FAKE_TOKEN]),
    heartbeatIntervalMs,
    heartbeatGraceMs: options.heartbeatGraceMs ?? Math.max(1_000, heartbeatIntervalMs / 2),
    trace: options.trace ?? true,
    ackForm: options.ackForm ?? 'alternate',
    heartbeatRequestDeadlineMs: options.heartbeatRequestDeadlineMs ?? 1_000,
    connection: options.connection ?? {},
    sendLimit: {
      limit: options.sendLimit?.limit ?? 120,
      windowMs: options.sendLimit?.windowMs ?? scaledWindow,
    },
    presenceLimit: {
      limit: options.presenceLimit?.limit ?? 5,
      windowMs: options.presenceLimit?.windowMs ?? 20_000,
    },
    apiVersions: new Set(options.apiVersions ?? [6, 7, 8, 9, 10]),
    shards: options.shards ?? 1,
    shardCountMultiple: options.shardCountMultiple ?? 1,
    maxGuildsPerShard: options.maxGuildsPerShard ?? 2_500,
    grantedIntents: options.grantedIntents ?? PRIVILEGED_INTENTS,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 180_000,
    replayBufferSize: options.replayBufferSize ?? 10_000,
    unavailableGuildIds: new Set(options.unavailableGuildIds ?? []),
    unavailableAs: options.unavailableAs ?? 'GUILD_DELETE',
    memberChunkSize: options.memberChunks?.size ?? 1_000,
    memberChunkCount: options.memberChunks?.count ?? null,
    memberRequestWindowMs: options.memberRequestWindowMs ?? 30_000,
    echoPresence: options.echoPresence ?? false,
    encodings,
    trafficRatePerSecond: options.traffic?.ratePerSecond ?? 5,
    maxGapEvents: options.maxGapEvents ?? 2_000,
    stateFile: options.stateFile ?? null,
    network: {
      inbound: transit(options.network?.inbound),
      outbound: transit(options.network?.outbound),
      seed: options.network?.seed ?? 1,
    },
  };
}

function transit(options: TransitOptions = {}): Transit {
  return { delayMs: options.delayMs ?? 0, jitterMs: options.jitterMs ?? 0 };
}
