import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FileSessionStore, type IntentName } from 'nestjs-discord-gateway';
import { FakeGateway } from 'nestjs-discord-gateway/testing';
import { AppModule } from './app.module.js';
import { startEmbeddedGateway } from './embedded-gateway.js';
import type { SampleConfig } from './sample.config.js';

const SESSIONS_FILE = '.sessions/bot-sessions.json';
const GATEWAY_STATE_FILE = '.sessions/embedded-gateway.json';

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

async function main(): Promise<void> {
  const logger = new Logger('Sample');
  const token = process.env.DISCORD_TOKEN;
  let embedded: FakeGateway | null = null;
  let config: SampleConfig;
  const sessionStore = new FileSessionStore(SESSIONS_FILE);

  if (token === undefined || token === '') {
    embedded = await startEmbeddedGateway(GATEWAY_STATE_FILE);
    logger.log(
      `No DISCORD_TOKEN: running on the embedded FakeGateway at ${embedded.url} (4 shards, max_concurrency 4)`,
    );
    config = {
      mode: 'embedded',
      restApi: embedded.apiUrl.replace(/\/v10$/, ''),
      statsEveryMs: 5_000,
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
    const intents = process.env.DISCORD_INTENTS;
    logger.log('DISCORD_TOKEN set: connecting to Discord');
    config = {
      mode: 'discord',
      restApi: 'https://discord.com/api',
      statsEveryMs: 10_000,
      gateway: {
        token,
        intents: intents === undefined ? DEFAULT_INTENTS : parseIntentList(intents),
        shards: 'recommended',
        sessionStore,
      },
    };
  }

  if (existsSync(SESSIONS_FILE)) {
    logger.log(
      `Stored sessions found in ${SESSIONS_FILE}: their shards RESUME instead of IDENTIFY`,
    );
  }

  const app = await NestFactory.createApplicationContext(AppModule.register(config), {
    logger: ['log', 'warn', 'error'],
  });

  // The sample handles signals itself rather than with app.enableShutdownHooks(): the bot must
  // close its shards (saving the sessions) before the embedded gateway stops, and the process
  // should exit 0.
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: closing the shards resumably and saving sessions to ${SESSIONS_FILE}`);
    await app.close();
    if (embedded !== null) await embedded.stop();
    logger.log('Stopped. Run npm start again to resume.');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

function parseIntentList(value: string): number | IntentName[] {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  return trimmed.split(',').map((name) => name.trim()) as IntentName[];
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
