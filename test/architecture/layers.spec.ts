import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Every `.ts` file below `dir`, with the module specifiers it imports or re-exports. */
function importsBelow(dir: string): { file: string; specifiers: string[] }[] {
  const out: { file: string; specifiers: string[] }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    const specifiers = [
      ...text.matchAll(/(?:import|export)[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g),
    ].map((m) => m[1] ?? m[2]);
    out.push({ file: relative(process.cwd(), file), specifiers });
  }
  return out;
}

/**
 * Import cycles among the modules below `dirs` (type-only imports count: they tie the files
 * together for a reader just the same), each as the files of the cycle in import order.
 */
function importCycles(dirs: string[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const { file, specifiers } of dirs.flatMap(importsBelow)) {
    const local = specifiers.filter((s) => s.startsWith('.'));
    graph.set(
      file,
      local.map((s) => relative(process.cwd(), resolve(dirname(file), s.replace(/\.js$/, '.ts')))),
    );
  }
  const cycles: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string): void => {
    const at = path.indexOf(file);
    if (at !== -1) {
      cycles.push([...path.slice(at), file]);
      return;
    }
    if (done.has(file) || !graph.has(file)) return;
    path.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    path.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  return cycles;
}

describe('layers', () => {
  it('the core (lib/gateway) imports no @nestjs code and nothing from lib/nest or lib/testing', () => {
    const offenders = importsBelow('lib/gateway').flatMap(({ file, specifiers }) =>
      specifiers
        .filter((s) => s.startsWith('@nestjs/') || s.includes('/nest/') || s.includes('/testing/'))
        .map((s) => `${file} -> ${s}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the FakeGateway (lib/testing) shares no code with the client it tests', () => {
    const offenders = importsBelow('lib/testing').flatMap(({ file, specifiers }) =>
      specifiers
        .filter((s) => s.includes('/gateway/') || s.startsWith('@nestjs/') || s.includes('/nest/'))
        .map((s) => `${file} -> ${s}`),
    );
    expect(offenders).toEqual([]);
  });

  it('only the Redis entry point (lib/redis) refers to ioredis, and nothing else imports it', () => {
    const offenders = ['lib/gateway', 'lib/nest', 'lib/testing'].flatMap((dir) =>
      importsBelow(dir).flatMap(({ file, specifiers }) =>
        specifiers
          .filter((s) => s === 'ioredis' || s.includes('/redis/'))
          .map((s) => `${file} -> ${s}`),
      ),
    );
    expect(offenders).toEqual([]);
    // Its imports of ioredis are types only: loading the entry point needs no Redis client.
    const valueImports = importsBelow('lib/redis').filter(({ file }) =>
      /^import (?!type )[^;]*from 'ioredis'/m.test(readFileSync(file, 'utf8')),
    );
    expect(valueImports).toEqual([]);
  });

  it('prom-client is loaded by the metrics entry point only, @nestjs/terminus by the health one only', () => {
    /** What each file below `dirs` imports: package names, and lib paths of relative imports. */
    const reaches = (dirs: string[], forbidden: (target: string) => boolean): string[] =>
      dirs.flatMap((dir) =>
        importsBelow(dir).flatMap(({ file, specifiers }) =>
          specifiers
            .map((s) =>
              s.startsWith('.') ? relative(process.cwd(), resolve(dirname(file), s)) : s,
            )
            .filter(forbidden)
            .map((target) => `${file} -> ${target}`),
        ),
      );
    const metrics = (t: string) => t === 'prom-client' || t.startsWith('lib/metrics/');
    const health = (t: string) => t.startsWith('@nestjs/terminus') || t.startsWith('lib/health/');
    const others = ['lib/gateway', 'lib/nest', 'lib/testing', 'lib/redis'];
    expect(reaches(others, metrics)).toEqual([]);
    expect(reaches(others, health)).toEqual([]);
    expect(reaches(['lib/metrics'], health)).toEqual([]);
    expect(reaches(['lib/health'], metrics)).toEqual([]);
    // Nor the sample's progress bar library, outside the sample.
    expect(
      reaches([...others, 'lib/metrics', 'lib/health'], (t) => t.startsWith('cli-progress')),
    ).toEqual([]);
  });

  it('no module uses top-level await, so CommonJS apps can require() the package', () => {
    const offenders = [
      'lib/gateway',
      'lib/nest',
      'lib/testing',
      'lib/redis',
      'lib/metrics',
      'lib/health',
    ].flatMap((dir) =>
      importsBelow(dir)
        .filter(({ file }) => /^await\s/m.test(readFileSync(file, 'utf8')))
        .map(({ file }) => file),
    );
    expect(offenders).toEqual([]);
  });

  it('no module of lib imports itself back through others (no import cycle)', () => {
    expect(
      importCycles(['lib/gateway', 'lib/nest', 'lib/testing', 'lib/metrics', 'lib/health']),
    ).toEqual([]);
  });
});
