/**
 * Messages between the chaos soak (soak.ts, the client's thread) and its FakeGateway worker
 * (soak-gateway.ts). The gateway runs in a worker thread so that the heap the soak measures
 * is the client's alone, and so that the gateway's work does not slow the client's event loop.
 */

import type { MalformedKind } from '../lib/testing/index.js';

/** What the worker is started with (`workerData`). */
export interface SoakGatewayInit {
  /** The only token the gateway accepts: the marker the leak check greps for. */
  readonly token: string;
  readonly seed: number;
  readonly shards: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatGraceMs: number;
  readonly identifyWindowMs: number;
  readonly trafficPerSecond: number;
  readonly replayBufferSize: number;
}

/** Faults aimed at one shard's live connection. */
export type ShardFault =
  | 'zombie'
  | 'op7'
  | 'op9-true'
  | 'op9-false'
  | 'close-4000'
  | 'close-4001'
  | 'close-4002'
  | 'close-4003'
  | 'close-4005'
  | 'close-4007'
  | 'close-4008'
  | 'close-4009'
  | 'drop-1006'
  | 'hello-delayed'
  | 'ready-withheld-identify'
  | 'ready-withheld-resume'
  | 'resume-url-dead'
  | 'op1-request'
  | 'huge-guild-create'
  // The FakeGateway's malformed frames, sent as they are ('huge' is huge-guild-create).
  | Exclude<MalformedKind, 'huge'>;

/** Why a gateway session ended, as far as the gateway knows. */
export type SessionEnd =
  | 'op9-false'
  | 'close-4007'
  | 'close-4009'
  | 'heartbeat-timeout-4009'
  | 'resume-rejected'
  | 'client-close-1000'
  | 'vanished';

/** One gateway session: its last sequence number and how it ended (null: still resumable). */
export interface SessionSummary {
  readonly id: string;
  readonly shardId: number;
  readonly seq: number;
  readonly end: SessionEnd | null;
}

export interface GatewaySummary {
  readonly sessions: SessionSummary[];
  readonly identifies: { shardId: number; outcome: string; sessionId: string | null }[];
  readonly resumes: { sessionId: string; outcome: string; listener: string }[];
  readonly connections: number;
  readonly heartbeatRequests: { answeredInTime: number; late: number; pending: number };
  readonly violations: Record<string, number>;
  readonly gatewayErrors: string[];
}

export type SoakRequest =
  | { readonly cmd: 'start' }
  | { readonly cmd: 'traffic'; readonly on: boolean }
  | {
      readonly cmd: 'fault';
      readonly fault: ShardFault;
      readonly shardId: number;
      readonly helloDelayMs?: number;
      readonly refuseMs?: number;
      readonly hugeBytes?: number;
    }
  | { readonly cmd: 'outage'; readonly refuseMs: number }
  | { readonly cmd: 'refusedSince'; readonly startedAt: number; readonly status: number }
  | { readonly cmd: 'sequences' }
  | { readonly cmd: 'summary' }
  /** What the gateway had between `after` and `got` (exclusive) in a live session. */
  | {
      readonly cmd: 'gap';
      readonly sessionId: string;
      readonly after: number;
      readonly got: number;
    }
  | { readonly cmd: 'stop' };

export interface SoakResponse {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
}

/** HTTP status of refused upgrades, one per fault so their counts stay apart. */
export const OUTAGE_STATUS = 503;
export const RESUME_DEAD_STATUS = 502;

/**
 * The dispatches a client skipped over: `replayable` ones are lost; `sessionEvents` are the
 * READY/RESUMED of an aborted handshake, which no RESUME replays (GW-RS-3). `known: false`
 * when the gateway no longer holds them all.
 */
export interface GapReport {
  readonly known: boolean;
  readonly replayable: string[];
  readonly sessionEvents: number;
}
