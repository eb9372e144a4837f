/**
 * (r) The consumer side of the Redis row: a RedisEventConsumer of one group with one listener,
 * reading the shard streams the row's gateway process (cluster.ts with `events`) publishes.
 * It delivers the stream to the probe as the other clients do, so its warmup, window and end
 * markers are theirs.
 */
import { Redis } from 'ioredis';
import { EventType, type GatewayEvent } from '../../lib/gateway/index.js';
import { RedisEventConsumer } from '../../lib/redis/index.js';
import type { BenchClient, Probe } from '../client-process.js';
import { END_MARKER, type ClientConfig } from '../common.js';
import { pathLogger } from './cluster.js';

export function createClient(config: ClientConfig, probe: Probe): BenchClient {
  const events = config.events;
  if (events === undefined) throw new Error('redis-consumer: no `events` in the client config');
  const redis = new Redis(events.port, '127.0.0.1');
  const consumer = new RedisEventConsumer({
    redis,
    token: config.token,
    keyPrefix: events.keyPrefix,
    group: 'bench',
    consumerName: 'bench-consumer',
    shardCount: config.shards,
    logger: pathLogger(probe),
  });
  probe.path = `Redis streams, XREADGROUP COUNT ${consumer.batchSize}`;
  consumer.addListener((event: GatewayEvent): void => {
    probe.onEvent();
    if (
      event.type === EventType.MessageCreate &&
      (event.data as { content?: string }).content === END_MARKER
    )
      probe.onEnd();
  });
  return {
    start: async () => {
      await consumer.up();
      // Every shard reported Active by the gateway process: the stream can start.
      await consumer.waitUntilReady();
    },
    stop: async () => {
      await consumer.down();
      redis.disconnect();
    },
  };
}
