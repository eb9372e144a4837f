import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FileSessionStore } from 'nestjs-discord-gateway';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.createApplicationContext(
    AppModule.register({
      token: process.env.DISCORD_TOKEN ?? '',
      intents: ['Guilds', 'GuildMessages', 'MessageContent'],
      sessionStore: new FileSessionStore('.discord-sessions.json'),
    }),
  );
  app.enableShutdownHooks();
}

void bootstrap();
