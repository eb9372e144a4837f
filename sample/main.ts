import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { startBot, type RunningBot } from './bot.js';

const logger = new Logger('Sample');
let bot: RunningBot | null = null;
let stopping = false;

// The sample handles signals itself rather than with app.enableShutdownHooks(): the bot must
// close its shards (saving the sessions) before the embedded gateway stops, and the process
// should exit 0. Installed before anything starts, so an early Ctrl+C is handled too; a second
// signal while stopping is ignored rather than cutting the shutdown short.
function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    logger.log(`${signal} received again; still closing the shards`);
    return;
  }
  stopping = true;
  logger.log(`${signal} received`);
  if (bot === null) return; // main() stops the bot as soon as it has started
  stop(bot);
}

function stop(running: RunningBot): void {
  running.stop().then(
    () => {
      logger.log('Stopped. Run npm start again to resume.');
      process.exit(0);
    },
    (error: unknown) => {
      logger.error(`Shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}

async function main(): Promise<void> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  bot = await startBot({ token: process.env.DISCORD_TOKEN, intents: process.env.DISCORD_INTENTS });
  if (stopping) stop(bot);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
