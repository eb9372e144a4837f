/**
 * (a) This library's Cluster with a plain listener (or, filtered, a MESSAGE_CREATE
 * subscription); with `metrics`, measured by a GatewayMetrics. With `events` (the Redis row's
 * gateway process), it also publishes every dispatch to Redis streams through a
 * RedisEventPublisher, and notes when the window's first dispatch was handed to it.
 */
import { Redis } from 'ioredis';
import {
  Cluster,
  EventType,
  EventTypeFlags,
  type GatewayEvent,
  type GatewayLogger,
} from '../../lib/gateway/index.js';
import { RedisEventPublisher, RedisIdentifyQueue } from '../../lib/redis/index.js';
import { Registry } from 'prom-client';
import { GatewayMetrics } from '../../lib/metrics/index.js';
import type { BenchClient, Probe } from '../client-process.js';
import { BENCH_INTENTS, END_MARKER, now, type ClientConfig } from '../common.js';

/** Keeps the debug lines that say which inflate/decode path a shard took. */
export function pathLogger(probe: Probe): GatewayLogger {
  const note = (message: string): void => {
    const match = /(inflating with .*|decoding with .*)$/.exec(message);
    if (match && !probe.path.includes(match[1]))
      probe.path = probe.path ? `${probe.path}; ${match[1]}` : match[1];
  };
  return {
    debug: note,
    log: () => {},
    warn: (message: string) => console.warn(message),
    error: (message: string, error?: unknown) => console.error(message, error),
  };
}

export function clusterOptions(config: ClientConfig) {
  return {
    token: config.token,
    intents: BENCH_INTENTS,
    gatewayUrl: config.url,
    apiUrl: config.apiUrl,
    allowInsecureGateway: true,
    compression: config.compression,
    encoding: config.encoding,
    shards: { from: 0, to: config.shards - 1, shardCount: config.shards },
    maxConcurrency: config.maxConcurrency,
    identifyWindowMs: config.identifyWindowMs,
  } as const;
}

export function createClient(config: ClientConfig, probe: Probe): BenchClient {
  const filtered = config.filtered;
  const logger = pathLogger(probe);
  const redis = config.redis === undefined ? null : new Redis(config.redis.port, '127.0.0.1');
  const events = config.events;
  const publishTo = events === undefined ? null : new Redis(events.port, '127.0.0.1');
  const publisher =
    events === undefined || publishTo === null
      ? undefined
      : new RedisEventPublisher({
          redis: publishTo,
          token: config.token,
          keyPrefix: events.keyPrefix,
          eventTypes: 'all',
          maxLen: events.capacity,
          bufferSize: events.capacity,
          processName: 'bench-gateway',
          logger,
        });
  if (publisher !== undefined) probe.path = 'published to Redis streams';
  const cluster = new Cluster(
    {
      ...clusterOptions(config),
      eventTypes: filtered ? EventTypeFlags.of(EventType.MessageCreate) : EventTypeFlags.ALL,
    },
    {
      logger,
      eventSink: publisher,
      queue:
        redis === null
          ? undefined
          : new RedisIdentifyQueue({
              redis,
              token: config.token,
              keyPrefix: config.redis?.keyPrefix,
              apiUrl: config.apiUrl,
              maxConcurrency: config.maxConcurrency,
              windowMs: config.identifyWindowMs,
              logger,
            }),
    },
  );
  const listener = (event: GatewayEvent): void => {
    probe.onEvent();
    if (
      event.type === EventType.MessageCreate &&
      (event.data as { content?: string }).content === END_MARKER
    )
      probe.onEnd();
  };
  // The Cluster hands each dispatch to its sink just before its listeners: the first listener
  // call of the window is the moment of the first publish.
  cluster.addListener(
    publisher === undefined
      ? listener
      : (event) => {
          if (probe.firstEventAt === 0) probe.firstEventAt = now();
          listener(event);
        },
  );
  if (config.metrics) new GatewayMetrics({ registry: new Registry() }).bind(cluster);
  return {
    start: async () => {
      await cluster.up();
      await cluster.waitUntilReady();
    },
    stop: async () => {
      await cluster.down();
      redis?.disconnect();
      publishTo?.disconnect();
    },
  };
}
