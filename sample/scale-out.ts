/**
 * The scale-out demo (`npm run demo:scale-out`): the sample bot split over processes on a
 * local redis-server, as a large bot runs.
 *
 * - this process: a redis-server of its own (loopback, a free port, persistence off) and the
 *   FakeGateway (4 shards, max_concurrency 2, a steady traffic mix);
 * - two gateway processes, one per identify bucket (shards 0 and 2, shards 1 and 3), sharing
 *   the identify pace, the sessions and the event streams in Redis;
 * - two consumer processes running the sample's handlers (`BotHandlers`) in consumer mode,
 *   one group, sharing the shard streams.
 *
 * Each process prints what it holds and handles, library warnings included (prefixed with its
 * name); this one prints each process's pid, and any that exits before the demo ends. Runs
 * `DEMO_SECONDS` (default 30) or until Ctrl+C. Needs `redis-server` on the PATH (the Debian
 * package); `REDIS_SERVER_BIN` names another binary.
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConsoleLogger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import {
  Cluster,
  consoleLogger,
  EventType,
  GatewayModule,
  type GatewayEvent,
} from 'nestjs-discord-gateway';
import {
  RedisEventConsumer,
  RedisEventPublisher,
  RedisIdentifyQueue,
  RedisSessionStore,
} from 'nestjs-discord-gateway/redis';
import { FakeGateway, RedisServer } from 'nestjs-discord-gateway/testing';
import { BotHandlers } from './bot.handlers.js';
import { SAMPLE_CONFIG, type SampleConfig } from './sample.config.js';

const SHARD_COUNT = 4;
const MAX_CONCURRENCY = 2;
const WINDOW_MS = 1_000;
const GROUP = 'sample-bot';
const PUBLISHED = [
  EventType.Ready,
  EventType.GuildCreate,
  EventType.MessageCreate,
  EventType.InteractionCreate,
];

interface Role {
  readonly role: 'gateway' | 'consumer';
  readonly name: string;
  readonly bucket: number;
  readonly redisPort: number;
  readonly gatewayUrl: string;
  readonly apiUrl: string;
}

function say(name: string, message: string): void {
  console.log(`[${name}] ${message}`);
}

/**
 * The process's Redis client. Its errors while Redis is down are logged once per outage (the
 * library's parts log what they do about it); without a listener ioredis prints each one.
 */
function connectRedis(role: Role): Redis {
  const redis = new Redis(role.redisPort, '127.0.0.1');
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    say(role.name, `Redis unreachable (${error.message}); retrying`);
  });
  redis.on('ready', () => {
    if (down) say(role.name, 'Redis reachable again');
    down = false;
  });
  return redis;
}

async function runGateway(role: Role): Promise<() => Promise<void>> {
  const redis = connectRedis(role);
  const token = FakeGateway.defaultToken;
  const logger = consoleLogger('warn', role.name);
  const publisher = new RedisEventPublisher({
    redis,
    token,
    eventTypes: PUBLISHED,
    processName: role.name,
    logger,
  });
  const cluster = new Cluster(
    {
      token,
      intents: ['Guilds', 'GuildMessages', 'MessageContent', 'GuildMembers'],
      gatewayUrl: role.gatewayUrl,
      apiUrl: role.apiUrl,
      shards: { buckets: [role.bucket], shardCount: SHARD_COUNT, maxConcurrency: MAX_CONCURRENCY },
    },
    {
      queue: new RedisIdentifyQueue({
        redis,
        token,
        apiUrl: role.apiUrl,
        maxConcurrency: MAX_CONCURRENCY,
        windowMs: WINDOW_MS,
        logger,
      }),
      sessionStore: new RedisSessionStore({ redis, token, logger }),
      eventSink: publisher,
      logger,
    },
  );
  await cluster.up();
  say(
    role.name,
    `gateway process: holds shards ${cluster.shardIds.join(', ')} of ${SHARD_COUNT} (bucket ${role.bucket}), ` +
      `publishes ${PUBLISHED.join(', ')} to Redis; runs the commands consumers send to these shards`,
  );
  const timer = setInterval(() => {
    const stats = publisher.stats();
    say(
      role.name,
      `published ${stats.published}, buffered ${stats.buffered}, dropped ${stats.dropped}`,
    );
  }, 5_000);
  return async () => {
    clearInterval(timer);
    await cluster.down();
    redis.disconnect();
  };
}

async function runConsumer(role: Role): Promise<() => Promise<void>> {
  const redis = connectRedis(role);
  const source = new RedisEventConsumer({
    redis,
    token: FakeGateway.defaultToken,
    group: GROUP,
    consumerName: role.name,
    shardCount: SHARD_COUNT,
    logger: consoleLogger('warn', role.name),
  });
  const config: SampleConfig = {
    mode: 'embedded',
    gateway: { token: FakeGateway.defaultToken, intents: [] },
    restApi: role.apiUrl.replace(/\/v10$/, ''),
    statsEveryMs: 5_000,
  };
  @Module({
    imports: [GatewayModule.forConsumer({ source, logLevel: 'warn' })],
    providers: [BotHandlers, { provide: SAMPLE_CONFIG, useValue: config }],
  })
  class ConsumerApp {}
  const app = await NestFactory.createApplicationContext(ConsumerApp, {
    logger: new ConsoleLogger({ prefix: role.name, logLevels: ['log', 'warn', 'error'] }),
  });
  let handled = 0;
  source.addListener((event: GatewayEvent) => {
    if (event.type === EventType.MessageCreate) handled++;
  });
  let shown = '';
  const show = (): void => {
    const held = source.shardIds.join(', ') || 'none';
    const line = `consumer process (group ${GROUP}): runs the sample's handlers on READY, GUILD_CREATE, MESSAGE_CREATE, INTERACTION_CREATE; reads shards ${held}`;
    if (line !== shown) say(role.name, line);
    shown = line;
  };
  show();
  const timer = setInterval(() => {
    show();
    say(role.name, `handled ${handled} MESSAGE_CREATE so far`);
  }, 5_000);
  return async () => {
    clearInterval(timer);
    await app.close();
    redis.disconnect();
  };
}

async function orchestrate(): Promise<void> {
  const redis = await RedisServer.start();
  const gateway = await FakeGateway.start({
    shards: SHARD_COUNT,
    maxConcurrency: MAX_CONCURRENCY,
    identifyWindowMs: WINDOW_MS,
    traffic: {
      seed: 7,
      guildCount: 8,
      membersPerGuild: 40,
      commandFraction: 0.1,
      ratePerSecond: 50,
    },
    memberChunks: { count: 2 },
  });
  say('demo', `FakeGateway on ${gateway.url}; redis-server on port ${redis.port}`);
  const children: { role: Role['role']; process: ChildProcess }[] = [];
  let stopping = false;
  const start = (role: Omit<Role, 'redisPort' | 'gatewayUrl' | 'apiUrl'>): void => {
    const full: Role = {
      ...role,
      redisPort: redis.port,
      gatewayUrl: gateway.url,
      apiUrl: gateway.apiUrl,
    };
    const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(full)], {
      stdio: 'inherit',
    });
    say('demo', `started ${role.name} (pid ${child.pid})`);
    // Once stopping, only a failed exit is news: the others are the SIGTERMs sent below.
    child.once('exit', (code, signal) => {
      if (!stopping || code !== 0)
        say(
          'demo',
          `${role.name} exited unexpectedly (${signal === null ? `exit code ${code}` : signal})`,
        );
    });
    children.push({ role: role.role, process: child });
  };
  start({ role: 'gateway', name: 'gateway-0', bucket: 0 });
  start({ role: 'gateway', name: 'gateway-1', bucket: 1 });
  start({ role: 'consumer', name: 'consumer-a', bucket: 0 });
  start({ role: 'consumer', name: 'consumer-b', bucket: 0 });
  const traffic = gateway.startTraffic({ ratePerSecond: 50 });
  const seconds = Number(process.env.DEMO_SECONDS ?? 30);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, seconds * 1_000);
    process.once('SIGINT', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  stopping = true;
  say('demo', `stopping; the FakeGateway generated ${traffic.generated} dispatches`);
  // Consumers first: a consumer still handling an event may be waiting on a gateway process
  // for a command's outcome; with the gateways gone it would wait for nothing.
  const stopChildren = (role: Role['role']) =>
    Promise.all(
      children
        .filter((child) => child.role === role)
        .map(
          ({ process: child }) =>
            new Promise<void>((resolve) => {
              // One that died already (killed, or failed to start) sends no second 'exit'.
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
    );
  await stopChildren('consumer');
  await stopChildren('gateway');
  await gateway.stop();
  await redis.stop();
}

const argument = process.argv[2];
if (argument === undefined) {
  orchestrate().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  const role = JSON.parse(argument) as Role;
  (role.role === 'gateway' ? runGateway(role) : runConsumer(role)).then(
    (stop) => {
      process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
      // The demo's own Ctrl+C reaches every process; the orchestrator stops them.
      process.on('SIGINT', () => undefined);
    },
    (error: unknown) => {
      console.error(`[${role.name}]`, error);
      process.exit(1);
    },
  );
}
