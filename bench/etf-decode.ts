/**
 * `npm run bench:etf`: what decoding ETF costs against JSON.parse, per payload kind, on the
 * same payloads (the FakeGateway's traffic, encoded as Discord encodes them), in one process.
 * The figures are medians of several timed batches after a warm-up; they measure the decoder
 * alone (no socket, no inflate), so they belong to this machine and Node version only.
 *
 * `BENCH_ETF_COMPARE=<path to an erlpack install>` adds erlpack's native decoder as a column.
 */
import { createRequire } from 'node:module';
import { decodeEtf } from '../lib/gateway/codec/etf.js';
import { encodeEtf } from '../lib/testing/etf-encoding.js';
import { TrafficGenerator } from '../lib/testing/traffic.js';

interface Kind {
  readonly name: string;
  readonly payloads: readonly unknown[];
}

const traffic = new TrafficGenerator({ seed: 7, membersPerGuild: 50 });
const guild = traffic.guilds[0]!;
const wrap = (t: string, d: unknown, s: number): unknown => ({ op: 0, t, s, d });
const kinds: Kind[] = [
  ...(['MESSAGE_CREATE', 'PRESENCE_UPDATE', 'TYPING_START', 'INTERACTION_CREATE'] as const).map(
    (type) => ({
      name: type,
      payloads: Array.from({ length: 200 }, (_, i) =>
        wrap(type, traffic.event(type, guild).d, i + 1),
      ),
    }),
  ),
  {
    name: 'GUILD_CREATE (1,000 members, ~300 KB)',
    payloads: [wrap('GUILD_CREATE', traffic.guildCreate(guild, { members: 1_000 }), 1)],
  },
];

const compareWith = process.env.BENCH_ETF_COMPARE;
const erlpack =
  compareWith === undefined
    ? null
    : (createRequire(`${compareWith}/`)('erlpack') as { unpack(data: Buffer): unknown });

/** Median µs per payload of `decode` over `batches` timed batches of about 4 MB each. */
function measure(
  inputs: readonly Buffer[],
  decode: (input: Buffer) => unknown,
  batches = 15,
): number {
  const bytes = inputs.reduce((n, input) => n + input.length, 0);
  const perPass = Math.max(1, Math.round(4_000_000 / bytes));
  for (let i = 0; i < perPass * 3; i++) for (const input of inputs) decode(input);
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perPass; i++) for (const input of inputs) decode(input);
    samples.push(Number(process.hrtime.bigint() - start) / 1_000 / (perPass * inputs.length));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const rows: string[][] = [];
for (const kind of kinds) {
  const etf = kind.payloads.map((payload) => encodeEtf(payload));
  const json = kind.payloads.map((payload) => Buffer.from(JSON.stringify(payload)));
  const bytes = (list: Buffer[]) =>
    Math.round(list.reduce((n, b) => n + b.length, 0) / list.length);
  const jsonUs = measure(json, (b) => JSON.parse(b.toString('utf8')));
  const etfUs = measure(etf, (b) => decodeEtf(b, { maxInflatedBytes: 64 * 1024 * 1024 }));
  const row = [
    kind.name,
    `${bytes(json)} / ${bytes(etf)}`,
    jsonUs.toFixed(2),
    etfUs.toFixed(2),
    `${(etfUs / jsonUs).toFixed(2)}x`,
  ];
  if (erlpack !== null) {
    const erlpackUs = measure(etf, (b) => erlpack.unpack(b));
    row.push(erlpackUs.toFixed(2), `${(etfUs / erlpackUs).toFixed(2)}x`);
  }
  rows.push(row);
}

const header = ['payload', 'bytes JSON / ETF', 'JSON.parse µs', 'decodeEtf µs', 'ETF / JSON'];
if (erlpack !== null) header.push('erlpack µs', 'decodeEtf / erlpack');
const lines = [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`);
process.stdout.write(`Node ${process.version}\n\n${lines.join('\n')}\n`);
