/**
 * `node dist/bench/breakdown.js DIR [id ...]`: the per-event cost breakdown of throughput rows
 * from the callgrind dumps that `npm run bench -- --callgrind-out DIR` kept. Run the bench with
 * `BENCH_CLIENT_FLAGS=--perf-basic-prof` so that V8 writes a map of its JIT code: the dumps
 * then name JavaScript functions (the map is copied next to each dump).
 *
 * Each stage is the inclusive cost of native entry points that every client calls the same
 * way, per event of the window:
 *
 * - receive: everything before `ws` emits the message (libuv read, streams, the `ws` frame
 *   parser), i.e. the window minus `receiverOnMessage`;
 * - inflate: the zlib-sync or zstd-napi addon, or node:zlib's synchronous inflate;
 * - strict UTF-8: the search of the text for U+FFFD (`String#indexOf`), and `buffer.isUtf8`
 *   on the rare text that holds one;
 * - to text: `Buffer#toString` (UTF-8 to a V8 string);
 * - JSON.parse;
 * - peek: the header peek of the decode filter (a named JavaScript function when V8 did not
 *   inline it);
 * - the rest of the client's JavaScript: what remains of `receiverOnMessage` (sequence
 *   tracking, the event object, routing, the listener, Nest's dispatch). Run the bench with
 *   `BENCH_CLIENT_FLAGS="--perf-basic-prof --no-turbo-inlining"` to see its functions one by
 *   one in the list below the table, at the price of calls V8 otherwise inlines.
 *
 * Garbage collection and JIT compilation are charged to the stage that allocated or called,
 * and also shown on their own.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DumpInfo } from './common.js';

const run = promisify(execFile);

interface Stage {
  readonly name: string;
  /** Functions whose inclusive costs add up to the stage (none nested in another). */
  readonly match: RegExp;
}

const RECEIVER_ON_MESSAGE = /^JS:[*^~]?receiverOnMessage .*ws\/lib\/websocket\.js/;

const STAGES: readonly Stage[] = [
  {
    name: 'inflate',
    match:
      /ZlibSyncInflate::(Push|GetResult)\(|zstd.*decompressStream|node::\(anonymous namespace\)::CompressionStream<.*>::Write<true>/,
  },
  {
    name: 'strict UTF-8 (U+FFFD search; isUtf8 on a text holding one)',
    match: /node::Buffer::\(anonymous namespace\)::IsUtf8\(|^Builtins_String(Prototype)?IndexOf$/,
  },
  { name: 'to text (toString)', match: /^node::StringBytes::Encode\(.*\)$/ },
  { name: 'JSON.parse', match: /v8::internal::Builtin_JsonParse\(/ },
  { name: 'peek', match: /^JS:\S*(peekHeader|peekDiscordOrder|dispatchTypeHint) / },
];

const GC = /^v8::internal::Heap::CollectGarbage\(|^v8::internal::IncrementalMarking::Step\(/;
const COMPILE =
  /::Compiler::CompileOptimized\(|::BaselineBatchCompiler::CompileBatch\(|::Compiler::Compile\(v8::internal::Isolate\*, v8::internal::Handle<v8::internal::JSFunction>/;

async function main(): Promise<void> {
  const [dir, ...ids] = process.argv.slice(2);
  if (dir === undefined) throw new Error('usage: breakdown.js DIR [row id ...]');
  const dumps = readdirSync(dir)
    .filter((f) => f.endsWith('.callgrind'))
    .filter((f) => ids.length === 0 || ids.includes(f.split('.')[0]))
    .sort();
  for (const dump of dumps) {
    const path = join(dir, dump);
    const info = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as DumpInfo;
    const costs = await inclusiveCosts(path, info.perfMap);
    process.stdout.write(`${report(dump, info, costs)}\n`);
  }
}

/** Inclusive instructions per function name, JIT code named through the perf map. */
async function inclusiveCosts(dump: string, perfMap: string | null): Promise<Map<string, number>> {
  const named = join(tmpdir(), `breakdown-${process.pid}.callgrind`);
  writeFileSync(named, perfMap === null ? readFileSync(dump) : symbolize(dump, perfMap));
  try {
    const { stdout } = await run(
      'callgrind_annotate',
      ['--inclusive=yes', '--threshold=100', '--auto=no', named],
      { maxBuffer: 512 * 1024 * 1024 },
    );
    const costs = new Map<string, number>();
    const total = /^([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS/m.exec(stdout);
    if (total === null) throw new Error(`${dump}: no program total`);
    costs.set('', number(total[1]));
    for (const line of stdout.split('\n')) {
      const match = /^\s*([\d,]+) \([^)]*\)\s+(?:\?\?\?|[^:]*):(.*?)(?: \[[^\]]*\])?$/.exec(line);
      // A name with a quote-number suffix is a recursion level, counted in the outer one.
      if (match === null || /'\d+$/.test(match[2])) continue;
      costs.set(match[2], (costs.get(match[2]) ?? 0) + number(match[1]));
    }
    return costs;
  } finally {
    rmSync(named, { force: true });
  }
}

const number = (text: string): number => Number(text.replaceAll(',', ''));

/** The dump with each unnamed JIT address replaced by its function in the perf map. */
function symbolize(dump: string, perfMap: string): string {
  const entries = readFileSync(perfMap, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [start, size, ...name] = line.split(' ');
      const from = parseInt(start, 16);
      return { from, to: from + parseInt(size, 16), name: name.join(' ') };
    })
    .sort((a, b) => a.from - b.from);
  const lookup = (address: number): string | null => {
    let lo = 0;
    let hi = entries.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid].from <= address) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && address < entries[found].to ? entries[found].name : null;
  };
  return readFileSync(dump, 'utf8').replace(
    /^(c?fn=\(\d+\)) (0x[0-9a-f]+)$/gm,
    (line, head: string, address: string) => {
      const name = lookup(parseInt(address, 16));
      return name === null ? line : `${head} ${name}`;
    },
  );
}

function report(dump: string, info: DumpInfo, costs: Map<string, number>): string {
  const perEvent = (n: number): string => Math.round(n / info.events).toLocaleString('en-US');
  const sum = (match: RegExp): number => {
    let total = 0;
    for (const [name, cost] of costs) if (match.test(name)) total += cost;
    return total;
  };
  const total = costs.get('')!;
  const delivered = sum(RECEIVER_ON_MESSAGE);
  const lines = [
    `#### ${info.id} (${dump}, ${info.events} events)`,
    '',
    '| stage | instructions/event |',
    '| --- | ---: |',
    `| receive (libuv, streams, ws frames) | ${perEvent(total - delivered)} |`,
  ];
  let rest = delivered;
  for (const stage of STAGES) {
    const cost = sum(stage.match);
    rest -= cost;
    lines.push(`| ${stage.name} | ${perEvent(cost)} |`);
  }
  lines.push(
    `| the client's own JavaScript (sequence, event object, routing, listener) | ${perEvent(rest)} |`,
    `| **window** | **${perEvent(total)}** |`,
    `| of which garbage collection | ${perEvent(sum(GC))} |`,
    `| of which JIT compilation | ${perEvent(sum(COMPILE))} |`,
  );
  if (info.perfMap === null) {
    lines.push('', 'No JIT map: JavaScript functions are unnamed (run with --perf-basic-prof).');
    return lines.join('\n');
  }
  // The client's own JavaScript, function by function (inclusive; nested ones count twice).
  const own = [...costs]
    .filter(([name]) => /^JS:.*file:.*\/(lib|bench\/clients)\//.test(name))
    .filter(([, cost]) => cost / info.events >= 20)
    .sort((a, b) => b[1] - a[1]);
  lines.push('', 'Library and client functions, inclusive, per event:', '');
  for (const [name, cost] of own) lines.push(`- ${perEvent(cost)} ${shorten(name)}`);
  return lines.join('\n');
}

/** A JIT map name without the machine's path to the repository. */
function shorten(name: string): string {
  return name.replace(/file:\/\/\S*?\/(lib|bench)\//, '$1/');
}

if (existsSync(process.argv[2] ?? '')) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  console.error(
    'usage: breakdown.js DIR [row id ...] (DIR from npm run bench -- --callgrind-out DIR)',
  );
  process.exit(1);
}
