import { jest } from '@jest/globals';
import { lastValueFrom, toArray } from 'rxjs';
import {
  ClusterService,
  GatewayModule,
  ShardService,
  ShardState,
  UnknownShardError,
  type ClusterProgress,
} from '../../lib/nest/index.js';
import type { FakeGateway } from '../../lib/testing/index.js';
import { boot, gatewayOptions, startFake, type BootedApp } from './app/harness.js';

jest.setTimeout(20_000);

const PRESENCE = { since: null, activities: [], status: 'idle', afk: false } as const;

describe('ClusterService and ShardService against the FakeGateway', () => {
  let fake: FakeGateway;
  let booted: BootedApp;

  beforeEach(async () => {
    fake = await startFake();
  });

  afterEach(async () => {
    await booted?.app.close();
    await fake.stop();
  });

  const bootWith = async (overrides = {}): Promise<void> => {
    booted = await boot(fake, {
      gateway: GatewayModule.forRoot(
        gatewayOptions(fake, {
          intents: ['Guilds', 'GuildMembers', 'GuildMessages', 'MessageContent'],
          ...overrides,
        }),
      ),
    });
  };

  it('requestGuildMembers$ streams the chunks; requestGuildMembers gathers them (GW-GT-19)', async () => {
    await bootWith();
    await booted.cluster.waitUntilReady();
    const [first, second] = fake.traffic.guilds;

    const chunks = await lastValueFrom(
      booted.cluster.requestGuildMembers$(first.id).pipe(toArray()),
    );
    expect(chunks.length).toBeGreaterThanOrEqual(1);
    expect(chunks.every((chunk) => chunk.guild_id === first.id)).toBe(true);
    // The fake world's memberCount leaves out the bot, which is a member too.
    expect(chunks.reduce((sum, chunk) => sum + chunk.members.length, 0)).toBe(
      first.memberCount + 1,
    );

    const result = await booted.cluster.requestGuildMembers(second.id);
    expect(result.members).toHaveLength(second.memberCount + 1);
    expect(result.notFound).toEqual([]);
  });

  it('command, commandForGuild, broadcast and ShardService.send reach the shard in order', async () => {
    await bootWith();
    await booted.cluster.waitUntilReady();
    const shards = booted.app.get(ShardService);
    const [guild] = fake.traffic.guilds;

    expect(booted.cluster.shardIdForGuild(guild.id)).toBe(0);
    await booted.cluster.command(0, { op: 3, d: { ...PRESENCE, status: 'online' } });
    await booted.cluster.commandForGuild(guild.id, { op: 3, d: { ...PRESENCE, status: 'idle' } });
    await booted.cluster.broadcast({ op: 3, d: { ...PRESENCE, status: 'dnd' } });
    await shards.send(0, { op: 3, d: { ...PRESENCE, status: 'invisible' } });
    await shards.shard(0).send({ op: 3, d: { ...PRESENCE, status: 'online' } });

    const statuses = await fake.waitFor(() => {
      const sent = fake.record.connections[0].received.filter((payload) => payload.op === 3);
      return sent.length === 5
        ? sent.map((payload) => (payload.d as { status: string }).status)
        : null;
    });
    expect(statuses).toEqual(['online', 'idle', 'dnd', 'invisible', 'online']);
    expect(() => shards.shard(7)).toThrow(UnknownShardError);
  });

  it('progress$ reports the startup; info() and ShardService views show each shard', async () => {
    await bootWith({ connectOnBootstrap: false });
    const progress: ClusterProgress[] = [];
    const subscription = booted.app
      .get(ClusterService)
      .progress$.subscribe((p) => progress.push(p));
    await booted.cluster.up();
    await booted.cluster.waitUntilReady();
    subscription.unsubscribe();

    expect(progress.at(-1)).toMatchObject({ ready: 1, total: 1 });
    const [info] = booted.cluster.info();
    expect(info).toMatchObject({ id: 0, total: 1, state: ShardState.Active });
    expect(booted.cluster.shardIds).toEqual([0]);
    expect(booted.cluster.shardCount).toBe(1);

    const view = booted.app.get(ShardService).shard(0);
    expect(view.state).toBe(ShardState.Active);
    expect(view.session?.id).toBe(info.sessionId);
    expect(view.latency.recent).toEqual(expect.any(Array));

    await booted.cluster.down();
    expect(view.state).toBe(ShardState.Closed);
  });
});
