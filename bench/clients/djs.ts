/** (c) @discordjs/ws 2.x with a dispatch listener: no compression, ZlibNative or ZlibSync. */
import { REST } from '@discordjs/rest';
import { CompressionMethod, WebSocketManager, WebSocketShardEvents } from '@discordjs/ws';
import type { BenchClient, Probe } from '../client-process.js';
import { BENCH_INTENTS, END_MARKER, type ClientConfig } from '../common.js';

export function createClient(config: ClientConfig, probe: Probe): BenchClient {
  const rest = new REST({ api: config.apiUrl.replace(/\/v10$/, '') }).setToken(config.token);
  const compression =
    config.kind === 'djs-native'
      ? CompressionMethod.ZlibNative
      : config.kind === 'djs-sync'
        ? CompressionMethod.ZlibSync
        : null;
  probe.path = compression === null ? 'none' : CompressionMethod[compression];
  const manager = new WebSocketManager({
    token: config.token,
    intents: BENCH_INTENTS,
    rest,
    compression,
    shardCount: config.shards,
  });
  manager.on(WebSocketShardEvents.Dispatch, (payload) => {
    probe.onEvent();
    if (payload.t === 'MESSAGE_CREATE' && payload.d.content === END_MARKER) probe.onEnd();
  });
  return {
    start: async () => {
      let ready = 0;
      const allReady = new Promise<void>((resolve) => {
        manager.on(WebSocketShardEvents.Ready, () => {
          if (++ready === config.shards) resolve();
        });
      });
      await manager.connect();
      await allReady;
    },
    stop: async () => {
      await manager.destroy();
    },
  };
}
