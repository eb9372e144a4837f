// Copied into an app that installed the package and run there: loads the package with
// require() and with import() in one process. Each way gets its own build, so the classes
// differ, and the package emits one warning that says so.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const codes = [];
process.on('warning', (warning) => codes.push(warning.code));
const fromRequire = createRequire(import.meta.url)('nestjs-discord-gateway');
const fromImport = await import('nestjs-discord-gateway');
// process.emitWarning emits on the next tick.
await new Promise((resolve) => process.nextTick(resolve));

assert.notEqual(fromRequire.GatewayModule, fromImport.GatewayModule);
assert.deepEqual(
  codes.filter((code) => code === 'NESTJS_DISCORD_GATEWAY_BOTH_BUILDS'),
  ['NESTJS_DISCORD_GATEWAY_BOTH_BUILDS'],
);
console.log('both builds loaded: two GatewayModule classes, one warning');
