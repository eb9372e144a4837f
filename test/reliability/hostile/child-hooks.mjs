/*
 * Module hooks of the catalogue's child processes, loaded with `--import` (after tsx when the
 * child runs from source):
 *
 * - tsx (esbuild) does not emit decorator metadata, which Nest's dependency injection reads
 *   from the module's classes: the files of lib/nest are compiled by TypeScript instead, with
 *   the repository's tsconfig.json options.
 * - CATALOGUE_WITHOUT_ADDONS (comma-separated package names) plays an install where those
 *   optional native addons did not build: resolving them fails as for a missing package.
 */
import { readFile } from 'node:fs/promises';
import Module, { register } from 'node:module';
import { fileURLToPath, URL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

const blocked = (process.env.CATALOGUE_WITHOUT_ADDONS ?? '').split(',').filter((n) => n !== '');
const isBlocked = (specifier) =>
  blocked.some((n) => specifier === n || specifier.startsWith(`${n}/`));
const notFound = (specifier) =>
  Object.assign(new Error(`Cannot find module '${specifier}'`), { code: 'MODULE_NOT_FOUND' });

if (isMainThread) {
  // require() of CommonJS modules (the addons are loaded that way) does not pass the hooks.
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    if (isBlocked(request)) throw notFound(request);
    return resolveFilename.call(this, request, ...rest);
  };
  // The bundled child (bundle-child.mjs) needs no module hooks: they cost a thread.
  if (process.env.CATALOGUE_BUNDLED !== '1') register(import.meta.url, import.meta.url);
}

let compilerOptions;

async function options(ts) {
  if (compilerOptions === undefined) {
    const path = fileURLToPath(new URL('../../../tsconfig.json', import.meta.url));
    const { config } = ts.readConfigFile(path, ts.sys.readFile);
    compilerOptions = {
      ...ts.convertCompilerOptionsFromJson(config.compilerOptions, '.').options,
      module: ts.ModuleKind.ESNext,
      sourceMap: false,
      declaration: false,
    };
  }
  return compilerOptions;
}

export async function resolve(specifier, context, nextResolve) {
  if (isBlocked(specifier)) throw notFound(specifier);
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!/\/lib\/nest\/.*\.ts$/.test(url)) return nextLoad(url, context);
  const { default: ts } = await import('typescript');
  const fileName = fileURLToPath(url);
  const { outputText } = ts.transpileModule(await readFile(fileName, 'utf8'), {
    compilerOptions: await options(ts),
    fileName,
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
