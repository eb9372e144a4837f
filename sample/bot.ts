import { join } from 'node:path';
import { Logger, type INestApplicationContext, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FileSessionStore, nestGatewayLogger, type IntentName } from 'nestjs-discord-gateway';
import { FakeGateway } from 'nestjs-discord-gateway/testing';
import { AppModule } from './app.module.js';
import { SampleLogger } from './console-output.js';
import { EMBEDDED_MAX_CONCURRENCY, startEmbeddedGateway } from './embedded-gateway.js';
import type { SampleConfig } from './sample.config.js';

const DEFAULT_INTENTS: IntentName[] = [
  'Guilds',
  'GuildMembers',
  'GuildMessages',
  'GuildMessageReactions',
  'GuildMessageTyping',
  'GuildPresences',
  'DirectMessages',
  'MessageContent',
];

/** How to start the sample bot. */
export interface BotOptions {
  /** A Discord bot token; without one the bot runs on the embedded FakeGateway. */
  readonly token?: string;
  /** Intents as a bitfield or comma-separated names (`DISCORD_INTENTS`); unset or empty: the defaults. */
  readonly intents?: string;
  /**
   * Shards of the embedded FakeGateway (`SHARDS`), identified 4 at a time (max_concurrency 4).
   * Default 4. Ignored with a token: Discord recommends the count.
   */
  readonly shards?: number;
  /** Folder of the session files (the bot's and the embedded gateway's). Default `.sessions`. */
  readonly stateDir?: string;
  /** Nest log levels. Default log, warn, error. */
  readonly logLevels?: LogLevel[];
  /** Stats line period in ms. Default 5 000 (embedded) or 10 000 (Discord). */
  readonly statsEveryMs?: number;
  /**
   * Aborts a start in progress (a signal during startup): the shards close resumably and
   * `startBot` rejects, after stopping the embedded gateway.
   */
  readonly signal?: AbortSignal;
}

/** A running sample bot. */
export interface RunningBot {
  readonly app: INestApplicationContext;
  /** The embedded gateway, when running without a token. */
  readonly embedded: FakeGateway | null;
  /** Closes the shards (resumably: sessions are saved), then stops the embedded gateway. */
  stop(): Promise<void>;
}

/** Starts the sample bot: on Discord with a token, else on an embedded FakeGateway. */
export async function startBot(options: BotOptions = {}): Promise<RunningBot> {
  const logger = new Logger('Sample');
  const stateDir = options.stateDir ?? '.sessions';
  const onDiscord = options.token !== undefined && options.token !== '';
  // One file per mode: a session of the embedded gateway must never be resumed on Discord
  // (its RESUME would carry the real token to a local port), nor the other way round.
  const sessionsFile = join(stateDir, onDiscord ? 'discord-sessions.json' : 'bot-sessions.json');
  // With a logger, a corrupt file or an invalid entry is a warning, not a silent re-identify.
  const sessionStore = new FileSessionStore(sessionsFile, nestGatewayLogger(logger));
  let embedded: FakeGateway | null = null;
  let config: SampleConfig;

  if (!onDiscord) {
    const shards = options.shards ?? 4;
    embedded = await startEmbeddedGateway(join(stateDir, 'embedded-gateway.json'), shards);
    logger.log(
      `No DISCORD_TOKEN: running on the embedded FakeGateway at ${embedded.url} (${shards} shards, max_concurrency ${EMBEDDED_MAX_CONCURRENCY})`,
    );
    config = {
      mode: 'embedded',
      restApi: embedded.apiUrl.replace(/\/v10$/, ''),
      statsEveryMs: options.statsEveryMs ?? 5_000,
      gateway: {
        token: FakeGateway.defaultToken,
        intents: DEFAULT_INTENTS,
        gatewayUrl: embedded.url,
        apiUrl: embedded.apiUrl,
        shards: 'recommended',
        sessionStore,
      },
    };
  } else {
    logger.log('DISCORD_TOKEN set: connecting to Discord');
    config = {
      mode: 'discord',
      restApi: 'https://discord.com/api',
      statsEveryMs: options.statsEveryMs ?? 10_000,
      gateway: {
        token: options.token,
        intents:
          options.intents === undefined || options.intents.trim() === ''
            ? DEFAULT_INTENTS
            : parseIntentList(options.intents),
        shards: 'recommended',
        sessionStore,
      },
    };
  }

  const storedNote = describeStoredSessions(
    Object.keys(await sessionStore.entries()),
    onDiscord ? undefined : (options.shards ?? 4),
    sessionsFile,
  );
  if (storedNote !== null) logger.log(storedNote);

  let app: INestApplicationContext;
  try {
    const appLogger = new SampleLogger();
    appLogger.setLogLevels(options.logLevels ?? ['log', 'warn', 'error']);
    app = await NestFactory.createApplicationContext(AppModule.register(config, options.signal), {
      logger: appLogger,
    });
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    app,
    embedded,
    stop: () =>
      (stopped ??= (async () => {
        logger.log(`Closing the shards resumably; sessions go to ${sessionsFile}`);
        await app.close();
        if (embedded !== null) await embedded.stop();
      })()),
  };
}

function parseIntentList(value: string): number | IntentName[] {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  return trimmed.split(',').map((name) => name.trim()) as IntentName[];
}

/**
 * What the stored sessions (keys `${shardCount}:${shardId}`) mean for this start: a session
 * resumes only a shard of the same shard count. `shardCount` is undefined when Discord's
 * recommendation decides it (not known yet). `null` when nothing is stored.
 */
export function describeStoredSessions(
  keys: string[],
  shardCount: number | undefined,
  file: string,
): string | null {
  if (keys.length === 0) return null;
  const counts = [...new Set(keys.map((key) => Number(key.split(':')[0])))].sort((a, b) => a - b);
  if (shardCount === undefined) {
    return `${keys.length} stored session(s) found in ${file} (for ${counts.join(', ')} shards): their shards RESUME instead of IDENTIFY if Discord's recommended shard count is the same`;
  }
  const usable = keys.filter((key) => key.startsWith(`${shardCount}:`)).length;
  const other = counts.filter((count) => count !== shardCount);
  const unused =
    other.length === 0
      ? ''
      : `; ${keys.length - usable} stored for ${other.join(', ')} shards stay unused (a session resumes only at its own shard count)`;
  return `${usable} stored session(s) for ${shardCount} shards found in ${file}: ${usable > 0 ? 'their shards RESUME instead of IDENTIFY' : 'every shard IDENTIFYs'}${unused}`;
}
