import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { FakeGateway } from 'nestjs-discord-gateway/testing';

/** The embedded gateway's max_concurrency: 4 shards identify per 5 s window. */
export const EMBEDDED_MAX_CONCURRENCY = 4;

/**
 * Starts the FakeGateway the sample runs on when no DISCORD_TOKEN is given: `shards` shards
 * (its recommended count) at max_concurrency 4, a steady realistic traffic mix with some `!ping` and `!presence`
 * messages, the REST routes the sample uses, and its sessions kept in `stateFile` so that
 * after a restart it replays the dispatches of the downtime on RESUME, as Discord does.
 */
export async function startEmbeddedGateway(
  stateFile: string,
  shards: number,
): Promise<FakeGateway> {
  mkdirSync(dirname(stateFile), { recursive: true });
  const gateway = await FakeGateway.start({
    shards,
    maxConcurrency: EMBEDDED_MAX_CONCURRENCY,
    heartbeatIntervalMs: 10_000,
    stateFile,
    traffic: {
      seed: 7,
      guildCount: Math.max(8, shards * 2),
      membersPerGuild: 40,
      commandFraction: 0.1,
      ratePerSecond: 20,
    },
    memberChunks: { count: 2 },
  });
  gateway.startTraffic({ ratePerSecond: 20 });
  return gateway;
}
