import { ManualClock } from '../../lib/gateway/clock/manual-clock.js';
import { FakeGateway } from '../../lib/testing/index.js';
import { RawClient } from './raw-client.js';

const token = FakeGateway.defaultToken;

/** Node's handle kinds that would keep the process alive (sockets, servers, timers). */
function handles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((kind) => kind === 'TCPServerWrap' || kind === 'TCPSocketWrap' || kind === 'Timeout')
    .sort();
}

describe('FakeGateway lifecycle', () => {
  it('stop() closes every socket, server and timer it opened (no open handles), and is idempotent', async () => {
    const before = handles();
    const gw = await FakeGateway.start({ heartbeatIntervalMs: 60_000 });
    const clients = await Promise.all([RawClient.connect(gw.url), RawClient.connect(gw.resumeUrl)]);
    await clients[0].next(10);
    clients[0].identify(token);
    await clients[0].next(0, 'READY');
    gw.startTraffic({ ratePerSecond: 5 });
    gw.connectionFor(0)!.requestHeartbeat({ deadlineMs: 60_000 });
    gw.delayUpgrades({ delayMs: 60_000 });
    const held = RawClient.connect(gw.url).catch((error: Error) => error);
    await gw.waitFor((r) => r.upgrades.length === 3);
    expect(handles().length).toBeGreaterThan(before.length);
    await Promise.all([gw.stop(), gw.stop()]);
    const closes = await Promise.all(clients.map((c) => c.closed));
    expect(closes.map((c) => c.code)).toEqual([1001, 1001]);
    expect(await held).toHaveProperty('message');
    // libuv releases closed handles on its next loop iterations. Handles other suites left
    // in this worker may close meanwhile, so compare per kind: never more than before.
    const count = (list: string[], kind: string): number => list.filter((h) => h === kind).length;
    const settled = (): boolean =>
      ['TCPServerWrap', 'TCPSocketWrap', 'Timeout'].every(
        (kind) => count(handles(), kind) <= count(before, kind),
      );
    for (let i = 0; i < 50 && !settled(); i++)
      await new Promise((resolve) => setImmediate(resolve));
    expect({ before, after: handles(), settled: settled() }).toMatchObject({ settled: true });
  });

  it('stop() drops clients that do not answer the close handshake', async () => {
    const gw = await FakeGateway.start();
    const client = await RawClient.connect(gw.url);
    await client.next(10);
    // A client that never answers the close frame: its socket stops reading.
    (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const started = Date.now();
    await gw.stop({ closeTimeoutMs: 100 });
    expect(Date.now() - started).toBeLessThan(2_000);
    client.ws.terminate();
  });

  it('runs every protocol timer on the injected clock (nothing pending on it after stop)', async () => {
    const clock = new ManualClock();
    const gw = await FakeGateway.start({ clock });
    const client = await RawClient.connect(gw.url);
    await client.next(10);
    client.identify(token);
    await client.next(0, 'READY');
    gw.startTraffic({ ratePerSecond: 1 });
    expect(clock.pendingTimers).toBeGreaterThanOrEqual(2);
    await gw.stop();
    await client.closed;
    expect(clock.pendingTimers).toBe(0);
  });
});
