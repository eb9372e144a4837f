// Runs the built app against a FakeGateway and exits 0 once a message went through a handler
// and the handler's command reached the gateway.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ClusterService } from 'nestjs-discord-gateway';
import { FakeGateway } from 'nestjs-discord-gateway/testing';
import { AppModule } from './app.module.js';
import { Greeter } from './greeter.js';

async function smoke(): Promise<void> {
  const gateway = await FakeGateway.start({ shards: 2, maxConcurrency: 2 });
  const app = await NestFactory.createApplicationContext(
    AppModule.register({
      token: FakeGateway.defaultToken,
      intents: ['Guilds', 'GuildMessages', 'MessageContent'],
      gatewayUrl: gateway.url,
      apiUrl: gateway.apiUrl,
    }),
  );
  app.enableShutdownHooks();
  try {
    await app.get(ClusterService).waitUntilReady();
    gateway.dispatch(
      'MESSAGE_CREATE',
      gateway.traffic.messageCreate(gateway.traffic.guilds[0], '!status'),
    );
    await gateway.waitFor((record) =>
      record.connections.some((connection) => connection.received.some(({ op }) => op === 3)),
    );
    console.log(`smoke: handler saw ${JSON.stringify(app.get(Greeter).seen)}, presence sent`);
  } finally {
    await app.close();
    await gateway.stop();
  }
}

smoke().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
