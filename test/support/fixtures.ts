import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const DEFAULT_FIXTURES_DIR = '../shared/fixtures';

/**
 * The shared fixtures folder: env `GATEWAY_FIXTURES_DIR`, default `../shared/fixtures`, both
 * resolved from the repo root (the working directory jest runs in). `null` when it does not exist.
 */
export function fixturesDir(): string | null {
  const dir = resolve(process.cwd(), process.env.GATEWAY_FIXTURES_DIR || DEFAULT_FIXTURES_DIR);
  return existsSync(dir) && statSync(dir).isDirectory() ? dir : null;
}

/**
 * Parses one fixture file, e.g. `loadFixture('READY.json')` or
 * `loadFixture('compression/zlib-stream.vectors.json')`.
 * @throws Error when the folder or file is missing.
 */
export function loadFixture(name: string): any {
  return JSON.parse(readFixtureText(name));
}

/** The raw text of one fixture file (for byte-level tests). */
export function readFixtureText(name: string): string {
  const dir = fixturesDir();
  if (dir === null) throw new Error(`fixtures folder ${describeLocation()} is missing`);
  return readFileSync(join(dir, name), 'utf8');
}

/**
 * `describe(name, fn)` when the fixtures folder exists. Without it the block is skipped
 * visibly (a warning names the folder), or, with `REQUIRE_FIXTURES=1` (CI), replaced by one
 * failing test that says the folder is required.
 */
export function describeWithFixtures(name: string, fn: () => void): void {
  if (fixturesDir() !== null) {
    describe(name, fn);
    return;
  }
  const reason = `fixtures folder ${describeLocation()} not found`;
  if (process.env.REQUIRE_FIXTURES === '1') {
    describe(name, () => {
      it('needs the fixtures folder (REQUIRE_FIXTURES=1)', () => {
        throw new Error(`${reason}; set GATEWAY_FIXTURES_DIR or unset REQUIRE_FIXTURES`);
      });
    });
    return;
  }
  console.warn(`Skipping "${name}": ${reason} (set GATEWAY_FIXTURES_DIR to run it)`);
  // The block itself is not run: its body may read fixtures while collecting tests.
  describe.skip(name, () => {
    it(`skipped: ${reason}`, () => {});
  });
}

function describeLocation(): string {
  return process.env.GATEWAY_FIXTURES_DIR
    ? `GATEWAY_FIXTURES_DIR=${process.env.GATEWAY_FIXTURES_DIR}`
    : DEFAULT_FIXTURES_DIR;
}
