/**
 * The child side of {@link FakeGatewayProcess}: one FakeGateway on real time, driven by
 * messages from the parent. Exits when the parent disconnects or asks it to stop.
 */
import { FakeGateway } from './fake-gateway.js';
import type {
  ProcessReply,
  ProcessRequest,
  RecordList,
  RemoteConnectionMethod,
  RemoteGatewayMethod,
} from './gateway-process.js';

let gateway: FakeGateway | null = null;

const GATEWAY_METHODS: ReadonlySet<RemoteGatewayMethod> = new Set<RemoteGatewayMethod>([
  'dispatch',
  'nextConnections',
  'refuseUpgrades',
  'delayUpgrades',
  'rateLimitHttp',
]);

const CONNECTION_METHODS: ReadonlySet<RemoteConnectionMethod> = new Set<RemoteConnectionMethod>([
  'dispatch',
  'reconnect',
  'invalidateSession',
  'stopAcking',
  'startAcking',
  'freeze',
  'close',
  'terminate',
  'requestHeartbeat',
  'sendMalformed',
]);

function running(): FakeGateway {
  if (gateway === null) throw new Error('the gateway is not started');
  return gateway;
}

function snapshot(list: RecordList): unknown {
  const record = running().record;
  if (list !== 'connections') return record[list];
  return record.connections.map((connection) => ({
    ...connection,
    sent: connection.sent.map(({ d: _d, ...rest }) => rest),
  }));
}

async function handle(request: ProcessRequest): Promise<unknown> {
  switch (request.kind) {
    case 'start': {
      if (gateway !== null) throw new Error('the gateway is already started');
      gateway = await FakeGateway.start(request.options);
      return { url: gateway.url, resumeUrl: gateway.resumeUrl, apiUrl: gateway.apiUrl };
    }
    case 'record':
      return snapshot(request.list);
    case 'gateway': {
      if (!GATEWAY_METHODS.has(request.method)) throw new Error(`unknown method ${request.method}`);
      const method = running()[request.method] as (...args: unknown[]) => unknown;
      return method.apply(gateway, request.args);
    }
    case 'connection': {
      if (!CONNECTION_METHODS.has(request.method))
        throw new Error(`unknown connection method ${request.method}`);
      const connection = running().connectionFor(request.shardId);
      if (connection === undefined)
        throw new Error(`shard ${request.shardId} has no open connection`);
      const method = connection[request.method] as (...args: unknown[]) => unknown;
      return method.apply(connection, request.args);
    }
    case 'stop':
      await gateway?.stop();
      gateway = null;
      return null;
  }
}

process.on('message', (request: ProcessRequest) => {
  const exitAfter = request.kind === 'stop';
  handle(request).then(
    (value) => reply({ id: request.id, ok: true, value }, exitAfter),
    (error: unknown) =>
      reply(
        {
          id: request.id,
          ok: false,
          message: error instanceof Error ? error.message : String(error),
        },
        exitAfter,
      ),
  );
});

function reply(message: ProcessReply, exitAfter: boolean): void {
  if (!process.connected) return;
  process.send!(message, () => {
    if (exitAfter) process.exit(0);
  });
}

// The parent is gone: never outlive it.
process.on('disconnect', () => {
  void (gateway?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
});
