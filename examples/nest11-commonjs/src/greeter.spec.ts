import { Test, type TestingModule } from '@nestjs/testing';
import { ClusterService } from 'nestjs-discord-gateway';
import { FakeGateway } from 'nestjs-discord-gateway/testing';
import { AppModule } from './app.module';
import { Greeter } from './greeter';

describe('Greeter on a FakeGateway', () => {
  let gateway: FakeGateway;
  let app: TestingModule;

  beforeEach(async () => {
    gateway = await FakeGateway.start({ shards: 2, maxConcurrency: 2, heartbeatIntervalMs: 1000 });
    app = await Test.createTestingModule({
      imports: [
        AppModule.register({
          token: FakeGateway.defaultToken,
          intents: ['Guilds', 'GuildMessages', 'MessageContent'],
          gatewayUrl: gateway.url,
          apiUrl: gateway.apiUrl,
          // The fake's send window at a 1 s heartbeat: 60_000 * 1_000 / 41_250 ms.
          limits: { commandWindowMs: 1_455 },
        }),
      ],
    }).compile();
    await app.init();
    await app.get(ClusterService).waitUntilReady();
  });

  afterEach(async () => {
    await app.close();
    await gateway.stop();
  });

  it('gets the message on the shard that owns its guild and answers with a presence update', async () => {
    const guild = gateway.traffic.guilds[0];
    gateway.dispatch('MESSAGE_CREATE', gateway.traffic.messageCreate(guild, '!status'));

    const owner = app.get(ClusterService).shardIdForGuild(guild.id);
    const presence = await gateway.waitFor((record) =>
      record.connections
        .filter((connection) => connection.shardId === owner)
        .flatMap((connection) => connection.received)
        .find(({ op }) => op === 3),
    );
    expect(app.get(Greeter).seen).toEqual(['!status']);
    expect(presence.d).toMatchObject({ status: 'online', activities: [{ name: 'status' }] });
  });
});
