import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const root = resolve('.');
const lock = join(root, 'dist', '.sample-lock');
/** A lock older than this was left by a run that was killed. */
const STALE_MS = 15 * 60_000;

/**
 * Builds the sample as its npm scripts do (the package's ES module build, then the sample) for
 * a test file that runs it from `dist/` as a child process, and holds `dist/` for that file
 * until the returned release is called (in `afterAll`).
 *
 * Jest runs test files in parallel workers, and `tsc -p tsconfig.build.json` rewrites every
 * file of dist/esm: a sample starting in one worker while another builds could load a file half
 * written. The lock is a directory (created atomically); a second file waits for the first.
 */
export async function holdSampleBuild(): Promise<() => void> {
  mkdirSync(join(root, 'dist'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_MS) rmSync(lock, { recursive: true, force: true });
      await new Promise((done) => setTimeout(done, 250));
    }
  }
  const release = () => rmSync(lock, { recursive: true, force: true });
  try {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    for (const project of ['tsconfig.build.json', 'tsconfig.sample.json']) {
      await promisify(execFile)(process.execPath, [tsc, '-p', project], { cwd: root });
    }
  } catch (error) {
    release();
    throw error;
  }
  return release;
}
