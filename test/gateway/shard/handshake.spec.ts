import {
  FatalCloseError,
  ProtocolError,
  ResumeUrlRefusedError,
} from '../../../lib/gateway/errors/errors.js';
import { EventType } from '../../../lib/gateway/events/event-type.js';
import { EventTypeFlags } from '../../../lib/gateway/events/event-type-flags.js';
import { ShardState } from '../../../lib/gateway/shard/shard-state.js';
import { fakeConnection, handshakeParts, TOKEN } from './parts-support.js';

const SESSION = { id: 'abc123', sequence: 42, resumeUrl: 'wss://resume.discord.gg' };
const READY = {
  v: 10,
  session_id: 'sess-1',
  resume_gateway_url: 'wss://us-east1-b.gateway.discord.gg/',
  guilds: [
    { id: '10', unavailable: true },
    { id: '11', unavailable: true },
  ],
};

/** Lets a resolved identify-queue promise run its continuation. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Handshake: what follows HELLO', () => {
  it('identifying: heartbeat first, then the identify queue, then IDENTIFY (shard, intents, compress: false)', async () => {
    const granted: number[] = [];
    const h = handshakeParts({}, { enqueue: async (id) => void granted.push(id) });
    const { conn, sent } = fakeConnection(h.clock, false);
    h.handshake.onHello(conn, { heartbeat_interval: 41_250 });
    expect(h.calls).toEqual([{ kind: 'state', state: ShardState.Identifying }]);
    expect(granted).toEqual([1]);
    expect(sent).toEqual([]);
    await turn();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toEqual({
      op: 2,
      d: expect.objectContaining({
        token: TOKEN,
        shard: [1, 4],
        intents: 513,
        compress: false,
      }),
    });
    expect(conn.handshakeSent).toBe(true);
    expect(conn.heartbeat?.intervalMs).toBe(41_250);
    // The READY wait is guarded by timeouts.readyMs.
    await h.clock.advance(h.config.timeouts.readyMs);
    expect(h.calls).toContainEqual({
      kind: 'timeout',
      phase: 'READY',
      timeoutMs: h.config.timeouts.readyMs,
    });
    conn.end();
  });

  it('a new session starts its sequence again: IDENTIFY forgets the previous one', async () => {
    const h = handshakeParts();
    h.handshake.sessionId = null;
    h.handshake.sequence = 7;
    const { conn } = fakeConnection(h.clock, false);
    h.handshake.onHello(conn, { heartbeat_interval: 1_000 });
    await turn();
    expect(h.handshake.sequence).toBeNull();
    conn.end();
  });

  it('resuming: RESUME at once with session_id and seq, without the identify queue; Resuming after it is sent', async () => {
    const queued: number[] = [];
    const h = handshakeParts({ session: SESSION }, { enqueue: async (id) => void queued.push(id) });
    const { conn, sent } = fakeConnection(h.clock, true, true);
    h.calls.length = 0;
    h.handshake.onHello(conn, { heartbeat_interval: 41_250 });
    expect(queued).toEqual([]);
    expect(sent).toEqual([{ op: 6, d: { token: TOKEN, session_id: 'abc123', seq: 42 } }]);
    expect(h.calls).toEqual([{ kind: 'state', state: ShardState.Resuming }]);
    await h.clock.advance(h.config.timeouts.readyMs);
    expect(h.calls).toContainEqual({
      kind: 'timeout',
      phase: 'RESUMED',
      timeoutMs: h.config.timeouts.readyMs,
    });
    conn.end();
  });

  it.each([[undefined], [0], [-5], ['41250'], [Number.NaN], [2 ** 31]])(
    'HELLO with heartbeat_interval %p reconnects as a bad frame and sends nothing',
    (interval) => {
      const h = handshakeParts();
      const { conn, sent } = fakeConnection(h.clock, false);
      h.handshake.onHello(conn, { heartbeat_interval: interval });
      expect(sent).toEqual([]);
      expect(h.calls).toHaveLength(1);
      expect(h.calls[0]).toMatchObject({ kind: 'badFrame', action: 'resume' });
      expect(conn.heartbeat).toBeNull();
    },
  );

  it('a second HELLO on one connection is reported and ignored', async () => {
    const h = handshakeParts();
    const { conn, sent } = fakeConnection(h.clock, false);
    h.handshake.onHello(conn, { heartbeat_interval: 1_000 });
    await turn();
    const heartbeat = conn.heartbeat;
    h.handshake.onHello(conn, { heartbeat_interval: 5 });
    expect(conn.heartbeat).toBe(heartbeat);
    expect(sent.filter((p) => p.op === 2)).toHaveLength(1);
    expect(h.counters.badFrames).toBe(1);
    expect(h.events.map((e) => e.type)).toContain(EventType.ShardError);
    conn.end();
  });

  it('heartbeats carry the last sequence of the session', async () => {
    const h = handshakeParts({ session: SESSION }, undefined, () => 0);
    const { conn, sent } = fakeConnection(h.clock, true);
    h.handshake.onHello(conn, { heartbeat_interval: 1_000 });
    await h.clock.advance(0);
    expect(sent.at(-1)).toEqual({ op: 1, d: 42 });
    h.handshake.sequence = 43;
    conn.heartbeat!.ack();
    await h.clock.advance(1_000);
    expect(sent.at(-1)).toEqual({ op: 1, d: 43 });
    expect(h.counters.heartbeatsSent).toBe(2);
    conn.end();
  });
});

describe('Handshake: what READY, RESUMED and op 9 mean', () => {
  it('READY starts the session: id, checked resume URL, Active, SHARD_READY, then guild tracking', async () => {
    const h = handshakeParts();
    const { conn } = fakeConnection(h.clock, false);
    h.handshake.onHello(conn, { heartbeat_interval: 1_000 });
    await turn();
    h.calls.length = 0;
    h.handshake.sequence = 1;
    h.handshake.onReady(conn, READY, 1);
    expect(h.handshake.session).toEqual({
      id: 'sess-1',
      sequence: 1,
      resumeUrl: 'wss://us-east1-b.gateway.discord.gg',
    });
    expect(conn.active).toBe(true);
    expect(h.calls).toEqual([{ kind: 'becomeActive' }, { kind: 'afterActive' }]);
    const types = h.events.map((e) => e.type);
    expect(types).toEqual([EventType.Ready, EventType.ShardReady]);
    expect(h.events[1]!.data).toEqual({ sessionId: 'sess-1', guildCount: 2 });
    expect([...h.guilds.pending!]).toEqual(['10', '11']);
    h.guilds.stop();
    conn.end();
  });

  it('READY is delivered only when the filter wants it; SHARD_READY always', async () => {
    const h = handshakeParts({
      eventTypes: EventTypeFlags.of(EventType.MessageCreate),
    });
    const { conn } = fakeConnection(h.clock, false);
    h.handshake.onHello(conn, { heartbeat_interval: 1_000 });
    await turn();
    h.handshake.onReady(conn, READY, 1);
    expect(h.events.map((e) => e.type)).toEqual([EventType.ShardReady]);
    h.guilds.stop();
    conn.end();
  });

  it.each([[null], [{}], [{ session_id: '' }], [{ session_id: 5 }]])(
    'READY %p without a session_id identifies again',
    (d) => {
      const h = handshakeParts();
      const { conn } = fakeConnection(h.clock, false);
      h.handshake.onReady(conn, d, 1);
      expect(h.calls).toEqual([
        { kind: 'badFrame', error: expect.any(ProtocolError), action: 'identify' },
      ]);
      expect(h.handshake.sessionId).toBeNull();
    },
  );

  it('a resume_gateway_url that breaks the URL rules is reported; the session resumes on the gateway URL', () => {
    const h = handshakeParts();
    const { conn } = fakeConnection(h.clock, false);
    h.handshake.sequence = 1;
    h.handshake.onReady(conn, { ...READY, resume_gateway_url: 'ws://evil.example' }, 1);
    expect(h.handshake.session?.resumeUrl).toBe('');
    const error = h.events.find((e) => e.type === EventType.ShardError)!.data as {
      error: Error;
    };
    expect(error.error).toBeInstanceOf(ResumeUrlRefusedError);
    expect(error.error.message).toMatch(/resume_gateway_url .*RESUME will use the gateway URL/);
    expect(h.urls.target(true)).toMatch(/^wss:\/\/gateway\.discord\.gg\/\?v=10/);
    h.guilds.stop();
  });

  it('RESUMED without a RESUME on this connection is reported and ignored', () => {
    const h = handshakeParts({ session: SESSION });
    const { conn } = fakeConnection(h.clock, false);
    h.handshake.onResumed(conn, null, 43);
    expect(conn.active).toBe(false);
    expect(h.calls).toEqual([]);
    expect(h.counters.badFrames).toBe(1);
  });

  it('RESUMED after RESUME: Active, SHARD_RESUMED with the replayed count', () => {
    const h = handshakeParts({ session: SESSION });
    const { conn } = fakeConnection(h.clock, true);
    h.handshake.onHello(conn, { heartbeat_interval: 1_000 });
    conn.replayed = 3;
    h.calls.length = 0;
    h.handshake.onResumed(conn, null, 46);
    expect(conn.active).toBe(true);
    expect(h.calls).toEqual([{ kind: 'becomeActive' }, { kind: 'afterActive' }]);
    const resumed = h.events.find((e) => e.type === EventType.ShardResumed)!;
    expect(resumed.data).toEqual({ sessionId: 'abc123', replayed: 3 });
    conn.end();
  });

  it('op 7 RECONNECT resumes on a new connection, never with 1000/1001', () => {
    const h = handshakeParts({ session: SESSION });
    const { conn } = fakeConnection(h.clock, true);
    h.handshake.onReconnect(conn);
    expect(h.calls).toEqual([
      {
        kind: 'restart',
        closeCode: 4000,
        reason: 'op 7 RECONNECT',
        action: 'resume',
        cause: 'reconnect-requested',
        minDelayMs: 0,
      },
    ]);
    expect(h.handshake.session).not.toBeNull();
  });

  it('op 9 resumable with a session: resume, the session kept', () => {
    const h = handshakeParts({ session: SESSION });
    const { conn } = fakeConnection(h.clock, true);
    h.handshake.onInvalidSession(conn, true);
    expect(h.calls).toEqual([
      expect.objectContaining({ kind: 'restart', action: 'resume', minDelayMs: 0 }),
    ]);
    expect(h.handshake.session).toEqual(SESSION);
    expect(h.events.map((e) => e.data)).toEqual([{ resumable: true }]);
  });

  it.each([
    ['not resumable', false, SESSION],
    ['resumable but no session', true, undefined],
  ])(
    'op 9 %s: the session dropped, IDENTIFY after a random wait in invalidSessionDelayMs',
    (_name, resumable, session) => {
      const h = handshakeParts({ session }, undefined, () => 0.25);
      const { conn } = fakeConnection(h.clock, session !== undefined);
      h.handshake.onInvalidSession(conn, resumable);
      const { min, max } = h.config.invalidSessionDelayMs;
      expect(h.calls).toEqual([
        expect.objectContaining({
          kind: 'restart',
          closeCode: 4000,
          action: 'identify',
          cause: 'invalid-session',
          minDelayMs: Math.round(min + (max - min) * 0.25),
        }),
      ]);
      expect(h.handshake.session).toBeNull();
      expect(h.urls.target(true)).toMatch(/^wss:\/\/gateway\.discord\.gg\//);
    },
  );
});

describe('Handshake: what a connection end leads to', () => {
  it('a fatal close code stops the shard; 4014 names the privileged intents requested', () => {
    const h = handshakeParts({ intents: ['Guilds', 'GuildMembers', 'MessageContent'] });
    const { conn } = fakeConnection(h.clock, false);
    expect(h.handshake.connectionEnded(conn, 4014, 'fatal')).toBe('fatal');
    expect(h.handshake.connectionEnded(conn, 4004, 'fatal')).toBe('fatal');
    expect(h.calls).toEqual([
      {
        kind: 'stopFatally',
        code: 4014,
        error: expect.any(FatalCloseError),
        cause: 'server-close',
      },
      {
        kind: 'stopFatally',
        code: 4004,
        error: expect.any(FatalCloseError),
        cause: 'server-close',
      },
    ]);
    const intents = h.calls.map((call) =>
      call.kind === 'stopFatally' ? (call.error as FatalCloseError).privilegedIntents : null,
    );
    expect(intents).toEqual([['GuildMembers', 'MessageContent'], []]);
  });

  it("'resume' keeps the session and resumes; 'identify' drops it", () => {
    const h = handshakeParts({ session: SESSION });
    const { conn } = fakeConnection(h.clock, true);
    expect(h.handshake.connectionEnded(conn, null, 'resume')).toBe('resume');
    expect(h.handshake.session).toEqual(SESSION);
    expect(h.handshake.connectionEnded(conn, 4009, 'identify')).toBe('identify');
    expect(h.handshake.session).toBeNull();
    expect(h.handshake.connectionEnded(conn, null, 'resume')).toBe('identify');
  });

  it('three RESUMEs in a row that end before RESUMED identify a new session', () => {
    const h = handshakeParts({ session: SESSION });
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { conn } = fakeConnection(h.clock, true);
      h.handshake.onHello(conn, { heartbeat_interval: 1_000 });
      conn.end();
      outcomes.push(h.handshake.connectionEnded(conn, null, 'resume'));
    }
    expect(outcomes).toEqual(['resume', 'resume', 'identify']);
    expect(h.handshake.session).toBeNull();
    expect(h.logs.text()).toMatch(/RESUME failed 3 times in a row; identifying a new session/);
  });

  it('a RESUMED in between starts the count again', () => {
    const h = handshakeParts({ session: SESSION });
    const attempt = (resumed: boolean) => {
      const { conn } = fakeConnection(h.clock, true);
      h.handshake.onHello(conn, { heartbeat_interval: 1_000 });
      if (resumed) h.handshake.onResumed(conn, null, null);
      conn.end();
      return h.handshake.connectionEnded(conn, null, 'resume');
    };
    expect([attempt(false), attempt(false), attempt(true), attempt(false), attempt(false)]).toEqual(
      ['resume', 'resume', 'resume', 'resume', 'resume'],
    );
  });
});
