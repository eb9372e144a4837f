import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** One connection of a {@link RawGateway}: the socket and what the client sent on it. */
export interface RawConnection {
  readonly socket: WebSocket;
  readonly received: { op: number; d: unknown }[];
  /** Sends `payload` as JSON text. */
  send(payload: unknown): void;
}

/**
 * A gateway that does only what its script says, for inputs the FakeGateway will not produce
 * (it answers member requests itself, and speaks zstd only through its own encoder). By
 * default it sends HELLO on connect, answers heartbeats, and answers IDENTIFY with a minimal
 * READY of no guilds. JSON only, no compression unless the script sends bytes itself.
 */
export interface RawGatewayScript {
  /** Instead of the JSON HELLO on connect. */
  onConnect?(conn: RawConnection): void;
  /** Called for every client payload after the default answers. */
  onPayload?(conn: RawConnection, payload: { op: number; d: unknown }): void;
  /** Answer IDENTIFY with READY. Default true. */
  ready?: boolean;
}

export interface RawGateway {
  readonly url: string;
  readonly connections: RawConnection[];
  stop(): Promise<void>;
}

export const RAW_SESSION_ID = 'raw-session-0001';

export function readyPayload(url: string, sessionId = RAW_SESSION_ID): unknown {
  return {
    op: 0,
    t: 'READY',
    s: 1,
    d: {
      v: 10,
      user: { id: '100000000000000001', username: 'bot', discriminator: '0', bot: true },
      guilds: [],
      session_id: sessionId,
      resume_gateway_url: url,
      shard: [0, 1],
      application: { id: '100000000000000001', flags: 0 },
    },
  };
}

export async function rawGateway(script: RawGatewayScript = {}): Promise<RawGateway> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((done) => server.once('listening', done));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const connections: RawConnection[] = [];
  server.on('connection', (socket) => {
    const conn: RawConnection = {
      socket,
      received: [],
      send: (payload) => socket.send(JSON.stringify(payload)),
    };
    connections.push(conn);
    socket.on('error', () => {});
    socket.on('message', (data) => {
      let payload: { op: number; d: unknown };
      try {
        payload = JSON.parse(String(data)) as { op: number; d: unknown };
      } catch {
        return;
      }
      conn.received.push(payload);
      if (payload.op === 1) conn.send({ op: 11, d: null });
      if (payload.op === 2 && script.ready !== false) conn.send(readyPayload(url));
      script.onPayload?.(conn, payload);
    });
    if (script.onConnect) script.onConnect(conn);
    else conn.send({ op: 10, d: { heartbeat_interval: 41_250 } });
  });
  return {
    url,
    connections,
    stop: () =>
      new Promise<void>((done) => {
        for (const client of server.clients) client.terminate();
        server.close(() => done());
      }),
  };
}
