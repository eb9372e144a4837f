// A .cts file compiles to CommonJS in both builds, so `require` and `__filename` here belong to
// the testing folder whether the package was loaded as ES modules or as CommonJS. (ES modules
// would need `import.meta.url`, which the CommonJS build cannot contain.)

/** `require` resolving from the testing folder (optional addons of the package). */
export const testingRequire: NodeJS.Require = require;

/** The testing folder: lib/testing when run from source, else the build's. */
export const testingDir: string = __dirname;

/** Whether the testing files run from TypeScript source (a test runner, tsx), not a build. */
export const fromSource: boolean = __filename.endsWith('.cts');
