import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayIntentBits } from 'discord-api-types/v10';
import { FakeGateway, type GatewayState } from '../../lib/testing/index.js';
import { RawClient } from './raw-client.js';

const token = FakeGateway.defaultToken;
const I = GatewayIntentBits;
const intents =
  I.Guilds |
  I.GuildMembers |
  I.GuildPresences |
  I.GuildMessages |
  I.GuildMessageTyping |
  I.GuildMessageReactions |
  I.MessageContent;

describe('FakeGateway state file (embedded mode restarts)', () => {
  let dir: string;
  let stateFile: string;
  const gateways: FakeGateway[] = [];
  const clients: RawClient[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fake-gateway-state-'));
    stateFile = join(dir, 'state.json');
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    for (const gw of gateways.splice(0)) await gw.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (): Promise<FakeGateway> => {
    const gw = await FakeGateway.start({ stateFile, traffic: { seed: 9, ratePerSecond: 10 } });
    gateways.push(gw);
    return gw;
  };

  it('saves sessions on stop; after a restart a RESUME replays the downtime gap, then RESUMED', async () => {
    const first = await start();
    const client = await RawClient.connect(first.url);
    clients.push(client);
    await client.next(10);
    client.identify(token, { intents });
    const ready = await client.next(0, 'READY');
    await client.until(() => client.dispatches().length === 1 + ready.d.guilds.length);
    const lastSeq = client.dispatches().at(-1)!.s!;
    await client.close(4000);
    await first.waitFor((r) => r.connections[0].closedAt !== null);
    // Sent while the bot was down, before the gateway stopped: it is in the saved buffer tail.
    first.dispatch(
      'MESSAGE_CREATE',
      first.traffic.messageCreate(first.traffic.guilds[0], 'before restart'),
    );
    await first.stop();

    const saved = JSON.parse(await readFile(stateFile, 'utf8')) as GatewayState;
    expect(saved.sessions).toHaveLength(1);
    expect(saved.sessions[0]).toMatchObject({
      id: ready.d.session_id,
      shardId: 0,
      seq: lastSeq + 1,
    });
    expect(JSON.stringify(saved)).not.toContain(token);
    // Pretend the bot was down for 5 s.
    saved.savedAt -= 5_000;
    await writeFile(stateFile, JSON.stringify(saved));

    const second = await start();
    expect(second.restored).toMatchObject({ sessions: 1 });
    expect(second.restored!.downtimeMs).toBeGreaterThanOrEqual(5_000);
    const gap = second.restored!.gapEvents;
    expect(gap).toBeGreaterThanOrEqual(50);
    expect(gap).toBeLessThanOrEqual(52);

    const resumed = await RawClient.connect(second.resumeUrl);
    clients.push(resumed);
    await resumed.next(10);
    resumed.send({ op: 6, d: { token, session_id: ready.d.session_id, seq: lastSeq } });
    await resumed.next(0, 'RESUMED', 0, 5_000);
    const replayed = resumed.dispatches().slice(0, -1);
    expect(replayed).toHaveLength(gap + 1);
    expect(replayed[0].d.content).toBe('before restart');
    expect(replayed.map((p) => p.s)).toEqual(replayed.map((_p, i) => lastSeq + 1 + i));
    expect(second.record.identifies).toHaveLength(0);
    expect(second.record.resumes[0]).toMatchObject({ outcome: 'resumed', replayed: gap + 1 });
  });

  it('keeps the identify budget across restarts and starts cleanly without a state file', async () => {
    const first = await start();
    expect(first.restored).toBeNull();
    const client = await RawClient.connect(first.url);
    clients.push(client);
    await client.next(10);
    client.identify(token);
    await client.next(0, 'READY');
    await first.stop();
    const second = await start();
    expect(second.restored).toMatchObject({ sessions: 1 });
    const res = await fetch(`${second.apiUrl}/gateway/bot`, {
      headers: { authorization: `Bot ${token}` },
    });
    expect(
      ((await res.json()) as { session_start_limit: { remaining: number } }).session_start_limit
        .remaining,
    ).toBe(999);
  });
});
