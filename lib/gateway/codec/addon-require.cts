// A .cts file compiles to CommonJS in both builds, so this `require` resolves from the
// package's own folder whether the rest of it was loaded as ES modules or as CommonJS. (ES
// modules would need `import.meta.url`, which the CommonJS build cannot contain.)
export const addonRequire: NodeJS.Require = require;
