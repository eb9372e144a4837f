import type { GatewayEvent } from '../../../lib/gateway/events/gateway-event.js';
import { ResumeUrlRefusedError } from '../../../lib/gateway/errors/errors.js';
import { Shard } from '../../../lib/gateway/shard/shard.js';
import type { ShardOptions } from '../../../lib/gateway/config/index.js';
import { FakeGateway, type FakeGatewayOptions } from '../../../lib/testing/index.js';
import { captureLogger, count, instantQueue, until } from './helpers.js';

let gw: FakeGateway | undefined;
let shard: Shard | undefined;
afterEach(async () => {
  await shard?.close();
  await gw?.stop();
  shard = undefined;
  gw = undefined;
});

/** A FakeGateway and a shard whose gatewayUrl is the gateway's URL plus `suffix`. */
async function start(
  gwOptions: FakeGatewayOptions,
  suffix: string,
  options: Partial<ShardOptions> = {},
): Promise<GatewayEvent[]> {
  gw = await FakeGateway.start({ heartbeatIntervalMs: 1_000, identifyWindowMs: 0, ...gwOptions });
  shard = new Shard(
    {
      token: FakeGateway.defaultToken,
      intents: ['Guilds'],
      gatewayUrl: `${gw.url}${suffix}`,
      compression: 'zlib-stream',
      ...options,
    },
    { queue: instantQueue, logger: captureLogger() },
  );
  const events: GatewayEvent[] = [];
  shard.addListener((event) => events.push(event));
  await shard.connect();
  return events;
}

/** Re-announces the shard's session in a READY whose resume_gateway_url is `resumeUrl`. */
function announce(resumeUrl: string): void {
  const session = gw!.sessions()[0]!;
  gw!.connectionFor(0)!.sendRaw(
    JSON.stringify({
      op: 0,
      t: 'READY',
      s: ++session.seq,
      d: { session_id: session.id, resume_gateway_url: resumeUrl, guilds: [] },
    }),
  );
}

describe('gateway and resume URLs with a path (GW-URL-2, GW-URL-4)', () => {
  // Wrong clients this fails: one that keeps only the host of either URL, one that appends
  // v/encoding/compress to the user's query (duplicates, the user's v=6 wins at a server
  // reading the first), and one that drops the user's query.
  it('IDENTIFY on the gateway path, RESUME on the resume path: user query kept, v/encoding/compress set', async () => {
    const events = await start({ resumePath: '/resume-abc' }, '/discord?region=eu&v=6&compress=x');
    gw!.connectionFor(0)!.reconnect();
    await until(() => count(events, 'SHARD_RESUMED') === 1);
    const [base, resume] = gw!.record.connections;
    expect([base!.listener, base!.path, base!.query]).toEqual([
      'base',
      '/discord',
      'region=eu&v=10&compress=zlib-stream&encoding=json',
    ]);
    expect([resume!.listener, resume!.path, resume!.query]).toEqual([
      'resume',
      '/resume-abc',
      'region=eu&v=10&compress=zlib-stream&encoding=json',
    ]);
    expect(count(events, 'SHARD_ERROR')).toBe(0);
  });

  it("resumeThroughGateway: the RESUME goes to the gateway URL (a reverse proxy), not READY's URL", async () => {
    const events = await start({ resumePath: '/resume-abc' }, '/proxy', {
      resumeThroughGateway: true,
    });
    gw!.connectionFor(0)!.reconnect();
    await until(() => count(events, 'SHARD_RESUMED') === 1);
    const resumed = gw!.record.connections[1]!;
    expect([resumed.listener, resumed.path, resumed.auth]).toEqual(['base', '/proxy', 'resume']);
    expect(count(events, 'SHARD_ERROR')).toBe(0);
  });

  it('a refused READY resume URL: one SHARD_ERROR per distinct URL, ResumeUrlRefusedError, RESUME on the base URL', async () => {
    const events = await start({}, '');
    const foreign = `ws://127.0.0.2:${new URL(gw!.url).port}/elsewhere`;
    for (const url of [foreign, foreign, foreign, 'wss://attacker.example/x']) {
      announce(url);
    }
    await until(() => count(events, 'SHARD_READY') === 5);
    const errors = events.filter((e) => e.type === 'SHARD_ERROR').map((e) => e.data.error);
    expect(errors).toHaveLength(2);
    expect(errors.every((error) => error instanceof ResumeUrlRefusedError)).toBe(true);
    expect(errors[0].message).toMatch(/^READY resume_gateway_url .*parent domain/);
    gw!.connectionFor(0)!.terminate();
    await until(() => count(events, 'SHARD_RESUMED') === 1);
    expect(gw!.record.resumes.map((r) => [r.outcome, r.listener])).toEqual([['resumed', 'base']]);
  });
});
