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
/** The demo's own default: its children take several seconds to start on a loaded machine. */
const SECONDS = 30;
const demoJs = join(root, 'dist/sample/scale-out.js');

/**
 * Runs the demo for `seconds`; `watch` sees the output so far at each chunk. The demo gets a
 * process group of its own: one that does not stop by itself within `seconds + 30` s is killed
 * with its children, so a hang fails the test (exit code `null`) and leaves no process behind.
 */
async function runDemo(
  seconds: number,
  watch: (output: string) => void = () => undefined,
): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DEMO_SECONDS: String(seconds) };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [demoJs], { cwd: root, env, detached: true });
  let output = '';
  const onData = (data: Buffer) => {
    output += data.toString('utf8');
    watch(output);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const code = await new Promise<number | null>((done) => {
    const timer = setTimeout(
      () => process.kill(-(child.pid as number), 'SIGKILL'),
      (seconds + 30) * 1_000,
    );
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      done(exitCode);
    });
  });
  return { code, output };
}

/** The lines `name` printed (`[name] ...`), without the prefix. */
const linesOf = (output: string, name: string): string[] =>
  output
    .split('\n')
    .filter((l) => l.startsWith(`[${name}] `))
    .map((l) => l.slice(name.length + 3));

describeWithRedis('npm run demo:scale-out', () => {
  let release: (() => void) | undefined;

  beforeAll(async () => {
    // Waits while another test file runs the sample from dist/ (see holdSampleBuild).
    release = await holdSampleBuild();
  }, 600_000);

  afterAll(() => release?.());

  it(`runs for DEMO_SECONDS=${SECONDS}: each process says what it holds and handles, the consumers split the shards and handle dispatches, and it stops by itself with code 0`, async () => {
    const { code, output } = await runDemo(SECONDS);
    const of = (name: string) => linesOf(output, name);
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
      expect(of('demo')).not.toContainEqual(expect.stringMatching(/exited unexpectedly/));
      // Library lines name their process too: none is left with the core's default prefix.
      expect(output).not.toMatch(/^\[gateway\] /m);
    } catch (error) {
      (error as Error).message += `\n--- demo output ---\n${output}`;
      throw error;
    }
  }, 90_000);

  it('a consumer killed with SIGKILL is reported once by name and signal, and the demo still stops by itself with code 0', async () => {
    const seconds = 20;
    let killed = false;
    const { code, output } = await runDemo(seconds, (soFar) => {
      // Killed once it has said what it reads: it is running, not starting up.
      if (killed || !/^\[consumer-b\] consumer process /m.test(soFar)) return;
      const pid = /^\[demo\] started consumer-b \(pid (\d+)\)$/m.exec(soFar)?.[1];
      if (pid === undefined) return;
      killed = true;
      process.kill(Number(pid), 'SIGKILL');
    });
    try {
      expect(killed).toBe(true);
      expect(code).toBe(0);
      const reports = linesOf(output, 'demo').filter((l) => /exited unexpectedly/.test(l));
      expect(reports).toEqual(['consumer-b exited unexpectedly (SIGKILL)']);
    } catch (error) {
      (error as Error).message += `\n--- demo output ---\n${output}`;
      throw error;
    }
  }, 60_000);
});
