import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REST } from '@discordjs/rest';
import type { Provider } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import ts from 'typescript';
import { ClusterService, GatewayModule } from 'nestjs-discord-gateway';
import { FakeGateway } from 'nestjs-discord-gateway/testing';
import { LogCapture } from '../nest/app/log-capture.js';
import { Commands } from './snippets/enhancers.js';
import { PingCommand } from './snippets/reply.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The README's ```ts blocks, in order, without their fences. */
const tsBlocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]);

/** The first ```ts block of a section. */
function blockOf(heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no section ${heading}`);
  return /^```ts\n([\s\S]*?)^```$/m.exec(readme.slice(start))![1];
}

/** TypeScript's errors for `code`, compiled as a file of this folder with `overrides`. */
function compileErrors(code: string, overrides: ts.CompilerOptions): string[] {
  const { config } = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root);
  const compilerOptions = { ...options, ...overrides, noEmit: true };
  const file = join(here, 'readme-usage.ts');
  const host = ts.createCompilerHost(compilerOptions);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) =>
    name === file
      ? ts.createSourceFile(name, code, language)
      : getSourceFile.call(host, name, language, ...rest);
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? code : readFile.call(host, name));
  const program = ts.createProgram([file], compilerOptions, host);
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map(
      (diagnostic) =>
        `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
    );
}

describe('README: the code it shows is the code that is tested', () => {
  it.each(['reply.ts', 'enhancers.ts'])('shows snippets/%s as it is', (name) => {
    const snippet = readFileSync(join(here, 'snippets', name), 'utf8');
    expect(tsBlocks).toContain(snippet);
  });

  it.each([
    [
      'a CommonJS app (module commonjs, moduleResolution node)',
      { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 },
    ],
    [
      'an ES module app (nodenext)',
      { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
    ],
  ])(
    'the Usage example compiles as it is in %s',
    (_name, options) => {
      expect(compileErrors(blockOf('## Usage'), options)).toEqual([]);
    },
    120_000,
  );
});

describe('README examples, run against a FakeGateway', () => {
  let gateway: FakeGateway;
  let app: TestingModule;
  let logs: LogCapture;

  const start = async (providers: Provider[]): Promise<void> => {
    gateway = await FakeGateway.start({ shards: 1, heartbeatIntervalMs: 1000 });
    logs = new LogCapture();
    app = await Test.createTestingModule({
      imports: [
        GatewayModule.forRoot({
          token: FakeGateway.defaultToken,
          intents: ['Guilds', 'GuildMessages', 'MessageContent'],
          gatewayUrl: gateway.url,
          apiUrl: gateway.apiUrl,
          limits: { commandWindowMs: 1_455 },
        }),
      ],
      providers,
    })
      .setLogger(logs)
      .compile();
    app.useLogger(logs);
    await app.init();
    await app.get(ClusterService).waitUntilReady();
  };

  afterEach(async () => {
    await app?.close();
    await gateway?.stop();
  });

  /** A MESSAGE_CREATE in the fake's first guild, from a person or from a bot. */
  const message = (content: string, bot = false): Record<string, unknown> => {
    const data = gateway.traffic.messageCreate(gateway.traffic.guilds[0], content);
    return { ...data, author: { ...(data.author as object), bot } };
  };

  it('replying: !ping is answered through the REST API with the same token', async () => {
    await start([
      PingCommand,
      {
        provide: REST,
        useFactory: () =>
          new REST({ api: gateway.apiUrl.replace(/\/v10$/, '') }).setToken(
            FakeGateway.defaultToken,
          ),
      },
    ]);
    const fromBot = message('!ping', true);
    const ping = message('!ping');
    gateway.dispatch('MESSAGE_CREATE', fromBot);
    gateway.dispatch('MESSAGE_CREATE', ping);

    const post = await gateway.waitFor((record) =>
      record.http.find((request) => request.method === 'POST'),
    );
    expect(post).toMatchObject({
      path: `/api/v10/channels/${ping.channel_id as string}/messages`,
      authorized: true,
      status: 200,
      body: { content: 'pong', message_reference: { message_id: ping.id } },
    });
    // The bot's message came first and got no answer: one POST in all.
    expect(gateway.record.http.filter((request) => request.method === 'POST')).toHaveLength(1);
  });

  it('a guard and an interceptor read the payload, the shard and the event type', async () => {
    await start([Commands]);
    gateway.dispatch('MESSAGE_CREATE', message('from a bot', true));
    gateway.dispatch('MESSAGE_CREATE', message('from a person'));
    const commands = app.get(Commands);
    await gateway.waitFor(() => commands.seen.length > 0 || null);

    expect(commands.seen).toEqual(['from a person']);
    const timing = logs.lines.filter((line) => line.context === 'HandlerTiming');
    expect(timing).toHaveLength(1);
    expect(timing[0].message).toMatch(
      /^Commands\.onMessage: MESSAGE_CREATE on shard 0 in \d+\.\d ms$/,
    );
  });
});
