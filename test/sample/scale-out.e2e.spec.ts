import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describeWithRedis } from '../support/redis-server.js';
import { holdSampleBuild } from '../support/sample-build.js';

/**
 * `npm run demo:scale-out` end to end (with `DEMO_SECONDS` to stop it): a FakeGateway and a
 * redis-server of the demo's own, two gateway processes, two consumer processes. `beforeAll`
 * runs the script's two builds; the test runs its last step, `node dist/sample/scale-out.js`. The block's own redis-server is not used; describeWithRedis only skips it (or
 * fails it under REQUIRE_REDIS=1) where no redis-server is installed.
 */
const root = resolve('.');
const SECONDS = 20;
const demoJs = join(root, 'dist/sample/scale-out.js');

describeWithRedis('npm run demo:scale-out', () => {
  let release: (() => void) | undefined;

  beforeAll(async () => {
    // Waits while another test file runs the sample from dist/ (see holdSampleBuild).
    release = await holdSampleBuild();
  }, 600_000);

  afterAll(() => release?.());

  it(`runs for DEMO_SECONDS=${SECONDS}: each process says what it holds and handles, the consumers split the shards and handle dispatches, and it stops by itself with code 0`, async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DEMO_SECONDS: String(SECONDS) };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, [demoJs], { cwd: root, env });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString('utf8')));
    child.stderr.on('data', (data: Buffer) => (output += data.toString('utf8')));
    const code = await new Promise<number | null>((done) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 30) * 1_000);
      child.on('close', (exitCode) => {
        clearTimeout(timer);
        done(exitCode);
      });
    });
    const lines = output.split('\n');
    const of = (name: string) =>
      lines.filter((l) => l.startsWith(`[${name}] `)).map((l) => l.slice(name.length + 3));
    try {
      expect(code).toBe(0);
      expect(of('gateway-0')).toContainEqual(
        expect.stringMatching(/^gateway process: holds shards 0, 2 of 4 \(bucket 0\), publishes /),
      );
      expect(of('gateway-1')).toContainEqual(
        expect.stringMatching(/^gateway process: holds shards 1, 3 of 4 \(bucket 1\), publishes /),
      );
      const held: number[][] = [];
      for (const name of ['consumer-a', 'consumer-b']) {
        const said = of(name);
        const reads = said
          .map(
            (l) =>
              /^consumer process \(group sample-bot\): runs the sample's handlers on .*; reads shards (.*)$/.exec(
                l,
              )?.[1],
          )
          .filter((s): s is string => s !== undefined);
        // Two consumers, four shards: two each once they both joined.
        const last = reads[reads.length - 1] ?? 'none';
        expect(last).toMatch(/^\d, \d$/);
        held.push(last.split(', ').map(Number));
        const handled = said
          .map((l) => /^handled (\d+) MESSAGE_CREATE so far$/.exec(l)?.[1])
          .filter((n): n is string => n !== undefined)
          .map(Number);
        expect(Math.max(0, ...handled)).toBeGreaterThan(0);
      }
      expect(held.flat().sort()).toEqual([0, 1, 2, 3]);
      expect(of('demo')).toContainEqual(
        expect.stringMatching(/^stopping; the FakeGateway generated \d+ dispatches$/),
      );
    } catch (error) {
      (error as Error).message += `\n--- demo output ---\n${output}`;
      throw error;
    }
  }, 90_000);
});
