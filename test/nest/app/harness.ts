import type { DynamicModule, ModuleMetadata, Provider, Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  ClusterService,
  GatewayModule,
  type GatewayModuleOptions,
} from '../../../lib/nest/index.js';
import { FakeGateway } from '../../../lib/testing/index.js';
import { CallLog } from './call-log.js';
import { LogCapture } from './log-capture.js';

/** Heartbeat interval of the FakeGateway in every e2e spec: short, so nothing waits 41 s. */
export const HEARTBEAT_INTERVAL_MS = 250;

/** A FakeGateway with short heartbeats, one shard, a small world. */
export function startFake(): Promise<FakeGateway> {
  return FakeGateway.start({
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    shards: 1,
    traffic: { guildCount: 2, membersPerGuild: 3 },
  });
}

/**
 * Module options pointing at `fake`, with every intent the fixture handlers need, logging at
 * `'debug'`.
 */
export function gatewayOptions(
  fake: FakeGateway,
  overrides: Partial<GatewayModuleOptions> = {},
): GatewayModuleOptions {
  return {
    token: FakeGateway.defaultToken,
    intents: ['Guilds', 'GuildMessages', 'GuildMessageTyping', 'MessageContent'],
    gatewayUrl: fake.url,
    apiUrl: fake.apiUrl,
    shards: { from: 0, to: 0, shardCount: 1 },
    // The FakeGateway shrinks its 60 s send window in proportion to the short heartbeat
    // interval; the client's window must match, or the heartbeat reserve takes every slot.
    limits: { commandWindowMs: Math.round((60_000 * HEARTBEAT_INTERVAL_MS) / 41_250) },
    // Specs assert on handler bindings and protocol traces, which only 'debug' writes.
    logLevel: 'debug',
    ...overrides,
  } as GatewayModuleOptions;
}

export interface BootOptions {
  /** The GatewayModule import; default `forRoot(gatewayOptions(fake))`. */
  gateway?: DynamicModule;
  providers?: Provider[];
  controllers?: Type[];
  imports?: ModuleMetadata['imports'];
}

export interface BootedApp {
  readonly app: TestingModule;
  readonly calls: CallLog;
  readonly logs: LogCapture;
  readonly cluster: ClusterService;
}

/**
 * Compiles and initializes a fixture app (handlers bound, shards started unless
 * connectOnBootstrap is off). Every line Nest logs is captured, debug included.
 */
export async function boot(fake: FakeGateway, options: BootOptions = {}): Promise<BootedApp> {
  const logs = new LogCapture();
  const app = await Test.createTestingModule({
    imports: [
      options.gateway ?? GatewayModule.forRoot(gatewayOptions(fake)),
      ...(options.imports ?? []),
    ],
    providers: [CallLog, ...(options.providers ?? [])],
    controllers: options.controllers ?? [],
  })
    .setLogger(logs)
    .compile();
  app.useLogger(logs);
  await app.init();
  return { app, calls: app.get(CallLog), logs, cluster: app.get(ClusterService) };
}

let messageSerial = 0;

/** A MESSAGE_CREATE `d` in a DM channel (no guild_id: routed to shard 0, GW-SH-2). */
export function messageData(content: string): Record<string, unknown> {
  messageSerial += 1;
  const id = String(1_300_000_000_000_000_000n + BigInt(messageSerial));
  return {
    id,
    channel_id: '1200000000000000001',
    author: {
      id: '1100000000000000001',
      username: 'tester',
      discriminator: '0',
      global_name: null,
      avatar: null,
    },
    content,
    timestamp: new Date(0).toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    type: 0,
  };
}

/** A TYPING_START `d` in the same DM channel. */
export function typingData(): Record<string, unknown> {
  return { channel_id: '1200000000000000001', user_id: '1100000000000000001', timestamp: 1 };
}
