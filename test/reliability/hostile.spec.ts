/*
 * The hostile-input catalogue: a gateway, a session file or a REST API that attacks the
 * library, one case per defect the hardening found (test/reliability/hostile/cases.ts states,
 * for each, what the library does and what the code before the hardening did). Every case runs
 * in a child process of its own with no uncaughtException handler, so anything thrown out of
 * the library, and any native crash, shows as the child's exit code; then all of them once more
 * in one process that has a global uncaughtException handler, as many applications do, where
 * the danger is a shard left stuck instead of a crash.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CASES } from './hostile/cases.js';
import { SCALED_MINUTE_MS, TIME_SCALE, type Observation } from './hostile/support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** child.ts bundled (bundle-child.mjs): starting a child takes a third of the time tsx takes. */
const BUNDLE = `node_modules/.cache/hostile-catalogue-${process.pid}`;
/**
 * Far above what the slowest child needs (every case in one process: ~40 s on a loaded 2-core
 * machine); a child still running then is killed and reported.
 */
const CHILD_DEADLINE_MS = 150_000;

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  observations: Map<string, Observation>;
  stderr: string;
}

function runChild(ids: readonly string[], env: Record<string, string> = {}): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', './test/reliability/hostile/child-hooks.mjs', `${BUNDLE}/child.mjs`, ...ids],
      {
        cwd: ROOT,
        // Jest's NODE_OPTIONS (--experimental-vm-modules) is not the child's business.
        env: { ...process.env, NODE_OPTIONS: '', CATALOGUE_BUNDLED: '1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on(
      'data',
      (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)),
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_DEADLINE_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const observations = new Map<string, Observation>();
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('CASE ')) continue;
        const observation = JSON.parse(line.slice(5)) as Observation;
        observations.set(observation.id, observation);
      }
      resolve({ code, signal, observations, stderr });
    });
  });
}

/** What a case's child did, in one line, for assertion messages. */
function verdict(run: ChildRun | undefined, id: string): unknown {
  if (run === undefined) return 'not run';
  const observation = run.observations.get(id);
  return {
    exit: run.code,
    signal: run.signal,
    failures: observation?.failures ?? 'no observation printed',
    stuck: observation?.stuck,
    ...(run.code !== 0 || observation === undefined ? { stderr: run.stderr.slice(-1_500) } : {}),
  };
}

const addonsBlocked = (ids: readonly string[]): Record<string, string> => {
  const names = new Set(
    CASES.filter((c) => ids.includes(c.id)).flatMap((c) => c.withoutAddons ?? []),
  );
  return names.size === 0 ? {} : { CATALOGUE_WITHOUT_ADDONS: [...names].join(',') };
};

const runs = new Map<string, ChildRun>();
let underHandler: ChildRun;

beforeAll(async () => {
  const bundled = spawnSync(
    process.execPath,
    ['test/reliability/hostile/bundle-child.mjs', BUNDLE],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  if (bundled.status !== 0) throw new Error(`bundling the child failed: ${bundled.stderr}`);
  // The run under a global handler mostly waits on timers: it goes alongside the single-case
  // children, which run two at a time, longest first (the machine has two cores).
  const ids = CASES.map((c) => c.id);
  const handled = runChild(ids, { CATALOGUE_UNCAUGHT_HANDLER: '1', ...addonsBlocked(ids) });
  const queue = [...CASES].sort(
    (a, b) => Number(b.id.startsWith('storm')) - Number(a.id.startsWith('storm')),
  );
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      runs.set(next.id, await runChild([next.id], addonsBlocked([next.id])));
    }
  };
  await Promise.all([worker(), worker()]);
  underHandler = await handled;
}, 2 * CHILD_DEADLINE_MS);

afterAll(() =>
  rmSync(new URL(`../../${BUNDLE}`, import.meta.url), { recursive: true, force: true }),
);

describe('hostile inputs, each case in its own process with no uncaughtException handler', () => {
  it.each(CASES.map((c) => [c.defect, c.id, c] as const))(
    'defect %s, %s: the process lives (exit 0) and the library does what the catalogue states',
    (_defect, id) => {
      const run = runs.get(id);
      expect(verdict(run, id)).toEqual({ exit: 0, signal: null, failures: [], stuck: [] });
    },
  );

  it(`storm: a gateway closing every connection right after RESUMED gets at most 2 connections a minute after the first (measured on the FakeGateway, ${TIME_SCALE}x faster: one minute = ${SCALED_MINUTE_MS} ms)`, () => {
    const facts = runs
      .get('storm-close-after-resumed')
      ?.observations.get('storm-close-after-resumed')?.facts;
    expect(facts).toBeDefined();
    const {
      connections,
      minutes,
      maxInAnyMinute,
      steadyPerMinute,
      lastAttempt,
      resumes,
      warnings,
    } = facts as Record<string, number>;
    expect(minutes).toBe(10);
    // At most 8 in the first minute (waits 0, 1, 2, 4, 8, 16, 32 s, jittered), then one every
    // 30-60 s.
    expect(maxInAnyMinute).toBeLessThanOrEqual(8);
    expect(steadyPerMinute).toBeLessThanOrEqual(2.5);
    expect(connections).toBeLessThanOrEqual(8 + 2 * 9 + 1);
    // Each was a RESUME, announced by a SHARD_RECONNECTING whose attempt kept counting (the
    // last one may still be waiting for its turn, or for RESUMED).
    expect(resumes).toBeGreaterThanOrEqual(connections - 2);
    expect(lastAttempt).toBeGreaterThanOrEqual(connections - 1);
    expect(warnings).toBeGreaterThanOrEqual(2);
  });
});

describe('under an application with a global uncaughtException handler', () => {
  it('every case in one process: no shard stuck, every close() resolves, the handler catches nothing', () => {
    const run = underHandler;
    expect({ exit: run.code, signal: run.signal }).toEqual({ exit: 0, signal: null });
    expect([...run.observations.keys()]).toEqual(CASES.map((c) => c.id));
    const problems = [...run.observations.values()].flatMap((o) => [
      ...o.stuck.map((s) => `${o.id}: ${s} stuck`),
      ...o.failures.map((f) => `${o.id}: ${f}`),
      ...(o.facts.uncaughtExceptions === 0 ? [] : [`${o.id}: ${String(o.facts.firstUncaught)}`]),
    ]);
    expect(problems).toEqual([]);
  });
});

describe('the catalogue is documented', () => {
  it('RELIABILITY.md lists every case by its id', () => {
    const doc = readFileSync(new URL('../../RELIABILITY.md', import.meta.url), 'utf8');
    expect(CASES.map((c) => c.id).filter((id) => !doc.includes(`\`${id}\``))).toEqual([]);
  });
});
