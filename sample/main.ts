import type { RunningBot } from './bot.js';

let bot: RunningBot | null = null;
let stopping = false;
/** Aborts a start still in progress (retrying GET /gateway/bot, shards identifying). */
const startup = new AbortController();

// The sample handles signals itself rather than with app.enableShutdownHooks(): the bot must
// close its shards (saving the sessions) before the embedded gateway stops, and the process
// should exit 0. Installed before anything else is even loaded, so an early Ctrl+C is handled
// too; a second signal while stopping is ignored rather than cutting the shutdown short.
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

function say(message: string): void {
  console.log(`[Sample] ${message}`);
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    say(`${signal} received again; still closing the shards`);
    return;
  }
  stopping = true;
  say(`${signal} received`);
  if (bot === null) {
    startup.abort(); // main() exits once the start has unwound
    return;
  }
  stop(bot);
}

function stop(running: RunningBot): void {
  running.stop().then(
    () => {
      say('Stopped. Run npm start again to resume.');
      process.exit(0);
    },
    (error: unknown) => {
      console.error(
        `[Sample] Shutdown failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      process.exit(1);
    },
  );
}

async function main(): Promise<void> {
  // Loaded after the signal handlers are in place (Nest and the library take a moment to load).
  await import('reflect-metadata');
  const { startBot } = await import('./bot.js');
  if (stopping) process.exit(0); // interrupted before anything started: nothing to close
  try {
    bot = await startBot({
      token: process.env.DISCORD_TOKEN,
      intents: process.env.DISCORD_INTENTS,
      shards: embeddedShards(process.env.SHARDS),
      signal: startup.signal,
    });
  } catch (error) {
    if (!stopping) throw error;
    say('Stopped during startup. Run npm start again to start.');
    process.exit(0);
  }
  if (stopping) stop(bot);
}

/** `SHARDS` (embedded mode): a positive whole number of shards; unset or empty: the default. */
function embeddedShards(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const shards = Number(value);
  if (!Number.isInteger(shards) || shards < 1) {
    throw new Error(`SHARDS must be a positive whole number (got ${JSON.stringify(value)})`);
  }
  return shards;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
