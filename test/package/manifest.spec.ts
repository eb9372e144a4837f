import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import semver from 'semver';
import ts from 'typescript';

// What npm and TypeScript read from package.json, checked without building or installing (CI
// installs the packed package into a Nest 11 and a Nest 12 app for the real thing).

interface Manifest {
  readonly main: string;
  readonly types: string;
  readonly scripts: Record<string, string>;
  readonly files: readonly string[];
  readonly peerDependencies: Record<string, string>;
  readonly exports: Record<string, unknown>;
}

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Manifest;
const installedNest = (
  JSON.parse(readFileSync('node_modules/@nestjs/core/package.json', 'utf8')) as { version: string }
).version;

/** Where a tsconfig puts its output: `rootDir` and `outDir`, inherited through `extends`. */
function outputOf(project: string): { rootDir: string; outDir: string } {
  const { config } = ts.readConfigFile(project, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, process.cwd());
  return {
    rootDir: posix.relative(process.cwd(), options.rootDir!),
    outDir: posix.relative(process.cwd(), options.outDir!),
  };
}

/** The folders of lib/ that are entry points (an index.ts), e.g. `nest`, `gateway`. */
const entryFolders = readdirSync('lib', { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .filter((name) => readdirSync(`lib/${name}`).includes('index.ts'));

const esm = outputOf('tsconfig.build.json');
const cjs = outputOf('tsconfig.cjs.json');
/** A lib file's path in a build, e.g. `dist/cjs/nest/index.d.ts`. */
const built = (build: { rootDir: string; outDir: string }, libFile: string): string =>
  posix.join(build.outDir, posix.relative(build.rootDir, libFile));

const APP = '/app';
const PACKAGE = `${APP}/node_modules/nestjs-discord-gateway`;

/**
 * A file system holding an app with the package installed: package.json, and every entry
 * point's .js and .d.ts in both builds (what the build writes, per the two tsconfigs).
 */
function installedPackageHost(appType: 'module' | 'commonjs'): ts.ModuleResolutionHost {
  const files = new Map<string, string>([
    [`${APP}/package.json`, JSON.stringify({ name: 'app', type: appType })],
    [`${PACKAGE}/package.json`, JSON.stringify(manifest)],
    [`${PACKAGE}/${cjs.outDir}/package.json`, JSON.stringify({ type: 'commonjs' })],
  ]);
  for (const folder of entryFolders) {
    for (const build of [esm, cjs]) {
      for (const ext of ['.js', '.d.ts']) {
        files.set(`${PACKAGE}/${built(build, `lib/${folder}/index.ts`).replace(/\.ts$/, ext)}`, '');
      }
    }
  }
  return {
    fileExists: (path) => files.has(path),
    readFile: (path) => files.get(path),
    directoryExists: (path) => [...files.keys()].some((file) => file.startsWith(`${path}/`)),
    realpath: (path) => path,
  };
}

/** The subpath each lib entry folder is published under. */
const subpathOf = (folder: string): string =>
  folder === 'nest' ? '.' : folder === 'gateway' ? './core' : `./${folder}`;

describe('package.json: installable into Nest 11 and Nest 12 apps', () => {
  it.each(['@nestjs/common', '@nestjs/core'])(
    'the %s peer range takes Nest 11 and the Nest 12 the project is built with',
    (name) => {
      const range = manifest.peerDependencies[name];
      expect(semver.satisfies('11.0.1', range)).toBe(true);
      expect(semver.satisfies(installedNest, range)).toBe(true);
    },
  );

  it('carries no install-time script, so npm lists none of its own at install', () => {
    const installScripts = ['preinstall', 'install', 'postinstall', 'prepare'];
    expect(Object.keys(manifest.scripts).filter((name) => installScripts.includes(name))).toEqual(
      [],
    );
  });

  it('publishes both builds and exports every entry point of lib/', () => {
    expect([...manifest.files].sort()).toEqual([cjs.outDir, esm.outDir].sort());
    expect(Object.keys(manifest.exports).filter((key) => key !== './package.json')).toEqual(
      expect.arrayContaining(entryFolders.map(subpathOf)),
    );
    expect(Object.keys(manifest.exports)).toHaveLength(entryFolders.length + 1);
  });
});

describe('package.json: every entry point resolves with its types, in the build the app loads', () => {
  const cases: [string, ts.CompilerOptions, 'module' | 'commonjs', ts.ResolutionMode, string][] = [
    [
      'CommonJS app, moduleResolution node (Nest 11 `nest new`)',
      { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 },
      'commonjs',
      undefined,
      cjs.outDir,
    ],
    [
      'CommonJS app, moduleResolution nodenext',
      { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
      'commonjs',
      ts.ModuleKind.CommonJS,
      cjs.outDir,
    ],
    [
      'ES module app, moduleResolution nodenext (Nest 12 `nest new`)',
      { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
      'module',
      ts.ModuleKind.ESNext,
      esm.outDir,
    ],
    [
      'bundler resolution',
      { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler },
      'module',
      ts.ModuleKind.ESNext,
      esm.outDir,
    ],
  ];

  it.each(cases)('%s', (_name, options, appType, mode, expectedBuild) => {
    const host = installedPackageHost(appType);
    const resolved = Object.fromEntries(
      entryFolders.map((folder) => {
        const specifier = posix.join('nestjs-discord-gateway', subpathOf(folder));
        const { resolvedModule } = ts.resolveModuleName(
          specifier,
          `${APP}/src/main.ts`,
          options,
          host,
          undefined,
          undefined,
          mode,
        );
        return [specifier, resolvedModule?.resolvedFileName];
      }),
    );
    expect(resolved).toEqual(
      Object.fromEntries(
        entryFolders.map((folder) => [
          posix.join('nestjs-discord-gateway', subpathOf(folder)),
          `${PACKAGE}/${expectedBuild}/${folder}/index.d.ts`,
        ]),
      ),
    );
  });

  it('the runtime target of each condition sits beside its types', () => {
    for (const [subpath, conditions] of Object.entries(manifest.exports)) {
      if (subpath === './package.json') continue;
      const { import: esmTarget, require: cjsTarget } = conditions as Record<
        'import' | 'require',
        { types: string; default: string }
      >;
      expect(esmTarget.default).toMatch(new RegExp(`^\\./${esm.outDir}/`));
      expect(cjsTarget.default).toMatch(new RegExp(`^\\./${cjs.outDir}/`));
      for (const target of [esmTarget, cjsTarget]) {
        expect(target.types).toBe(target.default.replace(/\.js$/, '.d.ts'));
      }
    }
    expect(manifest.main).toBe(
      (manifest.exports['.'] as { require: { default: string } }).require.default,
    );
  });
});
