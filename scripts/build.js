// Builds the published package from lib/: dist/esm (ES modules) and dist/cjs (CommonJS), each
// complete and with its own declarations. Node picks one by how the app loads the package
// (`import` or `require()`); README "CommonJS and ES modules" says why there are two.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
for (const dir of ['dist/esm', 'dist/cjs']) rmSync(dir, { recursive: true, force: true });
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
}
// The package is "type": "module"; this marker makes the .js files below dist/cjs CommonJS.
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
