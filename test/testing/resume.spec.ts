import { GatewayCloseCodes, GatewayIntentBits } from 'discord-api-types/v10';
import { ManualClock } from '../../lib/gateway/clock/manual-clock.js';
import { FakeGateway } from '../../lib/testing/index.js';
import { RawClient, type Received } from './raw-client.js';

const token = FakeGateway.defaultToken;
const intents =
  GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent;

describe('FakeGateway sessions and RESUME', () => {
  let gw: FakeGateway;
  const clients: RawClient[] = [];
  const connect = async (base: string): Promise<RawClient> => {
    const client = await RawClient.connect(base);
    clients.push(client);
    await client.next(10);
    return client;
  };
  /** Identifies shard 0 and waits for READY and its GUILD_CREATEs. */
  const identified = async (): Promise<{ client: RawClient; ready: Received }> => {
    const client = await connect(gw.url);
    client.identify(token, { intents });
    const ready = await client.next(0, 'READY');
    await client.until(() => client.dispatches().length === 1 + ready.d.guilds.length);
    return { client, ready };
  };
  const message = (text: string): number =>
    gw.dispatch('MESSAGE_CREATE', gw.traffic.messageCreate(gw.traffic.guilds[0], text));

  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await gw?.stop();
  });

  it('GW-RS-3: RESUME on the resume URL replays exactly the dispatches after seq, in order, then RESUMED', async () => {
    gw = await FakeGateway.start();
    const { client, ready } = await identified();
    message('one');
    await client.until(() => client.dispatches().some((p) => p.d.content === 'one'));
    const lastSeq = client.dispatches().at(-1)!.s!;
    await client.close(4000);
    await gw.waitFor((r) => r.connections[0].closedAt !== null);
    expect(gw.record.connections[0]).toMatchObject({ closedBy: 'client', clientCloseCode: 4000 });
    // The gap: dispatches while the bot has no connection wait in the session's buffer.
    expect(message('two')).toBe(1);
    expect(message('three')).toBe(1);

    const resumed = await connect(ready.d.resume_gateway_url);
    resumed.send({ op: 6, d: { token, session_id: ready.d.session_id, seq: lastSeq } });
    const done = await resumed.next(0, 'RESUMED');
    const replayed = resumed.dispatches();
    expect(replayed.map((p) => [p.s, p.t, p.d.content])).toEqual([
      [lastSeq + 1, 'MESSAGE_CREATE', 'two'],
      [lastSeq + 2, 'MESSAGE_CREATE', 'three'],
      [lastSeq + 3, 'RESUMED', undefined],
    ]);
    expect(done.s).toBe(lastSeq + 3);
    expect(gw.record.resumes).toEqual([
      expect.objectContaining({
        listener: 'resume',
        sessionId: ready.d.session_id,
        seq: lastSeq,
        outcome: 'resumed',
        replayed: 2,
      }),
    ]);
    expect(gw.record.connections[1]).toMatchObject({
      listener: 'resume',
      auth: 'resume',
      shardId: 0,
    });
    // Live again: a new dispatch goes out at once, with the next sequence.
    message('four');
    const four = await resumed.waitFor((p) => p.d?.content === 'four');
    expect(four.s).toBe(lastSeq + 4);
  });

  it('GW-RS-3: a seq older than the last sent replays from there (what the client missed, not what was sent)', async () => {
    gw = await FakeGateway.start();
    const { client, ready } = await identified();
    message('a');
    message('b');
    await client.until(() => client.dispatches().some((p) => p.d.content === 'b'));
    const seqOfA = client.dispatches().find((p) => p.d.content === 'a')!.s!;
    client.ws.terminate();
    const resumed = await connect(gw.resumeUrl);
    resumed.send({ op: 6, d: { token, session_id: ready.d.session_id, seq: seqOfA } });
    await resumed.next(0, 'RESUMED');
    expect(resumed.dispatches().map((p) => p.d.content ?? p.t)).toEqual(['b', 'RESUMED']);
  });

  it('GW-RS-4: an unknown session gets op 9 d=false, and the same socket may IDENTIFY after it (GW-IS-3)', async () => {
    gw = await FakeGateway.start();
    const client = await connect(gw.resumeUrl);
    client.send({ op: 6, d: { token, session_id: 'nope', seq: 3 } });
    const invalid = await client.next(9);
    expect(invalid.d).toBe(false);
    expect(gw.record.resumes[0]).toMatchObject({ outcome: 'invalid-session' });
    client.identify(token);
    await client.next(0, 'READY');
  });

  it('GW-GT-5: a seq ahead of the server closes 4007 and ends the session', async () => {
    gw = await FakeGateway.start();
    const { client, ready } = await identified();
    client.ws.terminate();
    const resumed = await connect(gw.resumeUrl);
    resumed.send({ op: 6, d: { token, session_id: ready.d.session_id, seq: 999 } });
    expect((await resumed.closed).code).toBe(GatewayCloseCodes.InvalidSeq);
    expect(gw.record.violationsOf('invalid-seq')).toHaveLength(1);
    const again = await connect(gw.resumeUrl);
    again.send({ op: 6, d: { token, session_id: ready.d.session_id, seq: 1 } });
    expect((await again.next(9)).d).toBe(false);
  });

  it.each([1000, 1001])('GW-CL-1: a client close with %i invalidates the session', async (code) => {
    gw = await FakeGateway.start();
    const { client, ready } = await identified();
    await client.close(code);
    await gw.waitFor(() => gw.sessions().length === 0);
    const resumed = await connect(gw.resumeUrl);
    resumed.send({ op: 6, d: { token, session_id: ready.d.session_id, seq: 1 } });
    expect((await resumed.next(9)).d).toBe(false);
  });

  it('GW-CL-3: a dropped TCP connection keeps the session resumable', async () => {
    gw = await FakeGateway.start();
    const { client, ready } = await identified();
    gw.connectionFor(0)!.terminate();
    expect((await client.closed).code).toBe(1006);
    await gw.waitFor((r) => r.connections[0].closedBy === 'network');
    const resumed = await connect(gw.resumeUrl);
    resumed.send({ op: 6, d: { token, session_id: ready.d.session_id, seq: 1 } });
    await resumed.next(0, 'RESUMED');
  });

  it('GW-RS-4: a session detached for longer than sessionTimeoutMs gets op 9 d=false (ManualClock)', async () => {
    const clock = new ManualClock();
    gw = await FakeGateway.start({ clock, sessionTimeoutMs: 60_000 });
    const { client, ready } = await identified();
    client.ws.terminate();
    await gw.waitFor((r) => r.connections[0].closedAt !== null);
    await clock.advance(60_001);
    const resumed = await connect(gw.resumeUrl);
    resumed.send({ op: 6, d: { token, session_id: ready.d.session_id, seq: 1 } });
    expect((await resumed.next(9)).d).toBe(false);
  });

  it('GW-RS-4: a seq older than the replay buffer reaches gets op 9 d=false', async () => {
    gw = await FakeGateway.start({ replayBufferSize: 5 });
    const { client, ready } = await identified();
    client.ws.terminate();
    await gw.waitFor((r) => r.connections[0].closedAt !== null);
    for (let i = 0; i < 10; i++) message(`m${i}`);
    const resumed = await connect(gw.resumeUrl);
    resumed.send({ op: 6, d: { token, session_id: ready.d.session_id, seq: 1 } });
    expect((await resumed.next(9)).d).toBe(false);
  });

  it('GW-IS-2: op 9 d=true keeps the session; d=false ends it', async () => {
    gw = await FakeGateway.start();
    const { client, ready } = await identified();
    gw.connectionFor(0)!.invalidateSession(true);
    expect((await client.next(9)).d).toBe(true);
    client.send({ op: 6, d: { token, session_id: ready.d.session_id, seq: 1 } });
    await client.next(0, 'RESUMED');
    gw.connectionFor(0)!.invalidateSession(false);
    await client.until(() => client.received.filter((p) => p.op === 9).length === 2);
    expect(gw.sessions()).toHaveLength(0);
  });

  it('a RESUME of a session still attached elsewhere takes it over and closes the old connection', async () => {
    gw = await FakeGateway.start();
    const { client, ready } = await identified();
    const resumed = await connect(gw.resumeUrl);
    resumed.send({ op: 6, d: { token, session_id: ready.d.session_id, seq: 1 } });
    await resumed.next(0, 'RESUMED');
    expect((await client.closed).code).toBe(GatewayCloseCodes.UnknownError);
    message('after');
    await resumed.waitFor((p) => p.d?.content === 'after');
  });
});
