// An app that imports neither `nestjs-discord-gateway/metrics` nor `/health` never loads
// prom-client or @nestjs/terminus: every module the package's entry points resolve is seen
// through a module resolve hook, first for the other entry points, then for those two.
import { register } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
const resolved = new Set();
port1.on('message', (url) => resolved.add(url));
port1.unref();
// Resolve hooks run on their own thread: each resolved URL is posted back.
const hooks = `
  let port;
  export function initialize(data) { port = data.port; }
  export async function resolve(specifier, context, next) {
    const result = await next(specifier, context);
    port.postMessage(result.url);
    return result;
  }`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, {
  data: { port: port2 },
  transferList: [port2],
});

async function loaded(name) {
  await sleep(50); // the hook thread's messages arrive
  return [...resolved].some((url) => url.includes(`/node_modules/${name}/`));
}

const peers = ['prom-client', '@nestjs/terminus'];
for (const entry of ['/core', '/testing', '', '/redis'])
  await import(`nestjs-discord-gateway${entry}`);
for (const name of peers) {
  if (await loaded(name)) throw new Error(`${name} is loaded without its entry point`);
}
await import('nestjs-discord-gateway/metrics');
await import('nestjs-discord-gateway/health');
for (const name of peers) {
  if (!(await loaded(name)))
    throw new Error(`${name} was not seen loading: the check sees nothing`);
}
console.log('prom-client and @nestjs/terminus load with their entry points only');
