/* eslint-disable no-control-regex -- the output under test is terminal control sequences */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { holdSampleBuild } from '../support/sample-build.js';

/**
 * The sample's start-up progress, seen from outside as a user sees it: `npm start` with
 * `SHARDS=8` (two identify windows at max_concurrency 4) on a pseudo-terminal (`script` from
 * util-linux) draws a progress bar in place; with stdout on a pipe it prints plain log lines.
 */

const root = resolve('.');
const mainJs = join(root, 'dist/sample/main.js');
const SHARDS = 8;
/** Every line the sample writes ends up here with its arrival time (real ms). */
interface Output {
  text: string;
  chunks: { at: number; text: string }[];
}

function run(
  command: string,
  args: string[],
  cwd: string,
): {
  child: ChildProcessWithoutNullStreams;
  output: Output;
  exited: Promise<number | null>;
} {
  const env: NodeJS.ProcessEnv = { ...process.env, SHARDS: String(SHARDS) };
  delete env.DISCORD_TOKEN;
  delete env.NO_COLOR;
  const child = spawn(command, args, { cwd, env });
  const output: Output = { text: '', chunks: [] };
  const collect = (data: Buffer): void => {
    const text = data.toString('utf8');
    output.text += text;
    output.chunks.push({ at: Date.now(), text });
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  return { child, output, exited };
}

/**
 * The lines as a terminal shows them, for the control sequences the bar uses: a carriage
 * return or `ESC[1G` moves back to column 1 and what follows overwrites; `ESC[2K` erases the
 * line, `ESC[0K` the rest of it; other sequences (colours, cursor visibility) show nothing.
 */
function visibleLines(text: string): string[] {
  return text.split('\n').map((raw) => {
    let line: string[] = [];
    let column = 0;
    for (const token of raw.match(/\x1b\[[0-9;?]*[A-Za-z]|\r|[^\x1b\r]/gu) ?? []) {
      if (token === '\r' || token === '\x1b[1G') column = 0;
      else if (token === '\x1b[2K') line = [];
      else if (token === '\x1b[0K') line = line.slice(0, column);
      else if (!token.startsWith('\x1b')) line[column++] = token;
    }
    return line.join('');
  });
}

async function until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`${what} did not happen in ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/**
 * Runs the checks of the output; when one fails, its message also carries the end of what the
 * sample printed (control sequences escaped), so that a failure on a CI machine can be read.
 */
function withOutputOnFailure(text: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof Error) {
      error.message += `\n--- the sample's output, last 4000 characters ---\n${JSON.stringify(text.slice(-4000))}`;
    }
    throw error;
  }
}

/** What a terminal running the sample with `SHARDS=8` must have received. */
function checkTerminalOutput(text: string): void {
  const frames = [
    ...text.matchAll(/\x1b\[1GShards ready \[([█░]+)\] (\d+)\/(\d+) \| ([^\r\n\x1b]*)/g),
  ];
  // The bar redraws on its own tick when its text changed, and the progress changes at each
  // READY: a first window whose READYs fall in one tick and a second likewise give two frames.
  expect(frames.length).toBeGreaterThanOrEqual(2);
  for (const [, bar, , total] of frames) {
    expect(Number(total)).toBe(SHARDS);
    expect(bar).toHaveLength(30);
  }
  // The bar fills as shards become Active, with the identify queue's ETA while they wait.
  // The first frame is drawn on the bar's first render tick, by which time the first identify
  // window (4 shards) may already be Active; it can never be later than that window.
  const readies = frames.map((frame) => Number(frame[2]));
  expect(readies[0]).toBeLessThanOrEqual(4);
  expect(readies).toEqual([...readies].sort((a, b) => a - b));
  expect(readies).toContain(4);
  expect(readies.at(-1)).toBe(SHARDS);
  expect(frames.at(-1)![1]).toBe('█'.repeat(30));
  expect(frames.at(-1)![4].trim()).toBe('every shard Active');
  expect(
    frames.some((frame) => Number(frame[2]) < SHARDS && /^identify queue ETA \d+ s/.test(frame[4])),
  ).toBe(true);
  // Drawn in place: a frame moves the cursor back to column 1 instead of starting a line.
  expect(text).not.toMatch(/\nShards ready \[/);
  // No plain progress line while a bar is drawn.
  expect(text).not.toMatch(/\[Sample\] [^\n]*Shards ready/);
  // The cursor is hidden while the bar is drawn and shown again once it is done.
  const hidden = text.indexOf('\x1b[?25l');
  expect(hidden).toBeGreaterThanOrEqual(0);
  expect(text.indexOf('\x1b[?25h', hidden)).toBeGreaterThan(hidden);

  // Log lines written while the bar was drawn end up whole, each on its own line above the
  // bar: on screen, every READY line of the library is intact and no bar frame shares it.
  const screenLines = visibleLines(text);
  for (let shard = 0; shard < SHARDS; shard++) {
    const ready = screenLines.filter((line) => line.includes(`Shard ${shard}/${SHARDS}: READY`));
    expect(ready.length).toBeGreaterThanOrEqual(1);
    for (const line of ready)
      expect(line).toMatch(/^\[Nest\] \d+ +- [^[]*LOG \[DiscordGateway\] Shard/);
  }
  expect(screenLines.filter((line) => line.startsWith('Shards ready [')).at(-1)).toMatch(
    /^Shards ready \[█{30}\] 8\/8 \| every shard Active/,
  );
}

describe('start-up progress of the sample (npm start, SHARDS=8)', () => {
  let cwd: string;
  let running: ChildProcessWithoutNullStreams | null = null;

  let release: (() => void) | undefined;

  beforeAll(async () => {
    // Waits while another test file runs the sample from dist/ (see holdSampleBuild).
    release = await holdSampleBuild();
  }, 600_000);

  afterAll(() => release?.());

  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'sample-progress-'));
  });

  afterEach(async () => {
    if (running !== null && running.exitCode === null) running.kill('SIGKILL');
    running = null;
    await rm(cwd, { recursive: true, force: true });
  });

  it('on a terminal: one bar redrawn in place up to 8/8, log lines above it, cursor restored', async () => {
    // `script` runs the sample on a pseudo-terminal; its stdin becomes the terminal's input.
    const { child, output, exited } = run(
      'script',
      ['-qefc', `exec "${process.execPath}" "${mainJs}"`, '/dev/null'],
      cwd,
    );
    running = child;
    const waitFor = (text: string, what: string, timeoutMs: number): Promise<void> =>
      until(() => output.text.includes(text), what, timeoutMs).catch((error: Error) =>
        withOutputOnFailure(output.text, () => {
          throw error;
        }),
      );
    await waitFor('every shard Active', 'the bar reaching 8/8', 90_000);
    child.stdin.write('\x03'); // Ctrl+C on the terminal: SIGINT to the sample
    await waitFor('Stopped.', 'the sample stopping', 30_000);
    const code = await exited;
    withOutputOnFailure(output.text, () => expect(code).toBe(0));

    const text = output.text;
    withOutputOnFailure(text, () => checkTerminalOutput(text));
  }, 150_000);

  it('outside a terminal: plain log lines at most every 5 s, and a last one at 8/8', async () => {
    const { child, output, exited } = run(process.execPath, [mainJs], cwd);
    running = child;
    await until(
      () => output.text.includes(`Shards ready ${SHARDS}/${SHARDS}`),
      'the last progress line',
      90_000,
    );
    child.kill('SIGINT');
    expect(await exited).toBe(0);

    // No terminal control sequences and no bar.
    expect(output.text).not.toMatch(/\x1b\[(\?25[lh]|1G)/);
    expect(output.text).not.toContain('░');
    const progress: { at: number; ready: number; status: string }[] = [];
    for (const chunk of output.chunks) {
      for (const match of chunk.text.matchAll(
        /\[Sample\] \S*Shards ready (\d+)\/(\d+) \| ([^\n\x1b]*)/g,
      )) {
        expect(Number(match[2])).toBe(SHARDS);
        progress.push({ at: chunk.at, ready: Number(match[1]), status: match[3] });
      }
    }
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0].ready).toBe(0);
    const last = progress.at(-1)!;
    expect(last.ready).toBe(SHARDS);
    expect(last.status).toBe('every shard Active');
    for (const line of progress.slice(0, -1))
      expect(line.status).toMatch(/^identify queue ETA \d+ s$/);
    // Every few seconds, not on every change: lines before the last are >= 5 s apart (the
    // pipe may deliver a line a little late, never early).
    for (let i = 1; i < progress.length - 1; i++) {
      expect(progress[i].at - progress[i - 1].at).toBeGreaterThanOrEqual(4_500);
    }
  }, 150_000);
});
