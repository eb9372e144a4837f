import { DEFAULT_IDENTIFY_MARGIN_MS } from '../queue/in-memory-queue.js';
import { DEFAULT_MAX_MISSED_ACKS } from '../shard/heartbeat.js';
import { COMMAND_MARGIN_MS, PRESENCE_MARGIN_MS } from '../shard/rate-limiter.js';
import type { InvalidSessionDelay, ReconnectOptions, Timeouts } from './options.js';

/** Defaults of the options of `ShardOptions` and `ClusterOptions`. */
export const DEFAULTS = {
  shardId: 0,
  shardCount: 1,
  gatewayUrl: 'wss://gateway.discord.gg',
  apiUrl: 'https://discord.com/api/v10',
  allowInsecureGateway: false,
  resumeThroughGateway: false,
  maxMissedAcks: DEFAULT_MAX_MISSED_ACKS,
  compression: 'zlib-stream',
  encoding: 'json',
  largeThreshold: 50,
  libraryName: 'nestjs-discord-gateway',
  timeouts: {
    connectMs: 15_000,
    helloMs: 20_000,
    readyMs: 60_000,
    guildsReadyMs: 15_000,
  } satisfies Timeouts,
  reconnect: {
    baseDelayMs: 1_000,
    maxDelayMs: 60_000,
    resumeUrlFailures: 3,
  } satisfies ReconnectOptions,
  invalidSessionDelayMs: { min: 1_000, max: 5_000 } satisfies InvalidSessionDelay,
  limits: {
    maxFrameBytes: 512 * 1024 * 1024,
    maxInflatedBytes: 512 * 1024 * 1024,
    commandsPerWindow: 120,
    commandWindowMs: 60_000,
    commandMarginMs: COMMAND_MARGIN_MS,
    presenceMarginMs: PRESENCE_MARGIN_MS,
  },
  bufferSize: 1_000,
  identifyWindowMs: 5_000,
  identifyMarginMs: DEFAULT_IDENTIFY_MARGIN_MS,
  onBudgetExhausted: 'fail',
} as const;
