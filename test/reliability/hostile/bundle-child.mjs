/*
 * Bundles child.ts with the library and the FakeGateway into ES modules in the folder given as
 * the only argument (entry: child.js), so that each child process of the catalogue starts
 * without compiling and resolving some two hundred source files on its own. Packages stay
 * external; what only the Nest case imports is a chunk of its own, loaded by that case alone.
 * The files of lib/nest are compiled by TypeScript first: esbuild does not emit the decorator
 * metadata that Nest's dependency injection reads.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath, URL } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const outdir = process.argv[2];
if (outdir === undefined) throw new Error('usage: bundle-child.mjs <folder>');

const { config } = ts.readConfigFile(`${root}tsconfig.json`, ts.sys.readFile);
const compilerOptions = {
  ...ts.convertCompilerOptionsFromJson(config.compilerOptions, root).options,
  module: ts.ModuleKind.ESNext,
  sourceMap: false,
  declaration: false,
};

const decoratorMetadata = {
  name: 'decorator-metadata',
  setup(bundle) {
    bundle.onLoad({ filter: /[\\/]lib[\\/]nest[\\/].*\.ts$/ }, async ({ path }) => ({
      contents: ts.transpileModule(await readFile(path, 'utf8'), {
        compilerOptions,
        fileName: path,
      }).outputText,
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: [`${root}test/reliability/hostile/child.ts`],
  outdir,
  entryNames: '[name]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  tsconfig: `${root}tsconfig.json`,
  plugins: [decoratorMetadata],
  // CommonJS globals the .cts helpers use (require resolves the optional addons). The folder
  // is inside the repository, so they resolve from its node_modules.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { dirname as __dirnameOf } from 'node:path';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      'const __dirname = __dirnameOf(__filename);',
    ].join('\n'),
  },
  logLevel: 'warning',
});
