import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { startBot } from './bot.js';

async function main(): Promise<void> {
  const logger = new Logger('Sample');
  const bot = await startBot({
    token: process.env.DISCORD_TOKEN,
    intents: process.env.DISCORD_INTENTS,
  });

  // The sample handles signals itself rather than with app.enableShutdownHooks(): the bot must
  // close its shards (saving the sessions) before the embedded gateway stops, and the process
  // should exit 0.
  const stop = (signal: string): void => {
    logger.log(`${signal} received`);
    bot.stop().then(
      () => {
        logger.log('Stopped. Run npm start again to resume.');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error(`Shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
