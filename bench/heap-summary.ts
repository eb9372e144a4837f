/**
 * `node dist/bench/heap-summary.js SMALL.heapsnapshot N BIG.heapsnapshot M [--top K] [--detail]`
 *
 * What one more shard costs in heap, by constructor: two heap snapshots of the same client
 * idling with N and M shards (`npm run bench -- --only idle --heap-snapshots DIR`), their
 * objects grouped by kind and constructor (V8's node type and name: `object Socket`,
 * `closure onMessage`, `string`, `code`, ...), and the difference of each group's shallow size
 * and count divided by M - N. What the process allocates once (compiled code, modules)
 * appears in both snapshots and cancels out; the groups add up to the whole difference, so
 * nothing is counted twice (retained sizes would be). With the snapshot taken before `start()`
 * (`<name>.before.heapsnapshot`) as 0 shards, the difference is everything the client added,
 * the once-per-process part included. `--detail` also names each object's first retainer and
 * the edge from it (`object Array <- object CommandPump.outbox`).
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

interface Group {
  size: number;
  count: number;
}

/** Kinds whose node name is a constructor or function name worth telling apart. */
const NAMED_KINDS = new Set(['object', 'closure', 'native', 'hidden', 'array', 'object shape']);

function groups(path: string, detail: boolean): Map<string, Group> {
  const snapshot = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const { meta } = snapshot.snapshot;
  const fields = meta.node_fields;
  const kinds = meta.node_types[0];
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const { nodes, strings } = snapshot;
  const nameOf = (node: number): string => {
    const kind = kinds[nodes[node + typeAt]];
    if (!NAMED_KINDS.has(kind)) return kind;
    const name = strings[nodes[node + nameAt]];
    // Arrays and hidden nodes are named after their role ("(object properties)", ...); long
    // names (source text of a closure, a module URL) are cut.
    return `${kind} ${name.length > 60 ? `${name.slice(0, 57)}...` : name}`;
  };
  // With `detail`, each node is also named by its first strong retainer and the edge from it
  // (`object Array <- object CommandPump.outbox`): which part of a shard holds it.
  const owner = detail ? retainers(snapshot, nameOf) : null;
  const result = new Map<string, Group>();
  for (let i = 0; i < nodes.length; i += stride) {
    const key = owner === null ? nameOf(i) : `${nameOf(i)} <- ${owner.get(i) ?? '(root)'}`;
    const group = result.get(key) ?? { size: 0, count: 0 };
    group.size += nodes[i + sizeAt];
    group.count += 1;
    result.set(key, group);
  }
  return result;
}

/** The first non-weak retainer of every node, as `<retainer name>.<edge name>`. */
function retainers(snapshot: Snapshot, nameOf: (node: number) => string): Map<number, string> {
  const { meta } = snapshot.snapshot;
  const stride = meta.node_fields.length;
  const edgeCountAt = meta.node_fields.indexOf('edge_count');
  const edgeStride = meta.edge_fields.length;
  const edgeTypeAt = meta.edge_fields.indexOf('type');
  const edgeNameAt = meta.edge_fields.indexOf('name_or_index');
  const toAt = meta.edge_fields.indexOf('to_node');
  const edgeKinds = meta.edge_types[0];
  const { nodes, edges, strings } = snapshot;
  const result = new Map<number, string>();
  let edge = 0;
  for (let node = 0; node < nodes.length; node += stride) {
    const from = nameOf(node);
    for (let e = 0; e < nodes[node + edgeCountAt]; e++, edge += edgeStride) {
      const kind = edgeKinds[edges[edge + edgeTypeAt]];
      if (kind === 'weak' || kind === 'shortcut') continue;
      const to = edges[edge + toAt];
      if (result.has(to)) continue;
      const name =
        kind === 'element' || kind === 'hidden'
          ? `[${edges[edge + edgeNameAt]}]`
          : strings[edges[edge + edgeNameAt]];
      result.set(to, `${from}.${name}`);
    }
  }
  return result;
}

function main(args: string[]): void {
  const topAt = args.indexOf('--top');
  const top = topAt < 0 ? 30 : Number(args[topAt + 1]);
  const detail = args.includes('--detail');
  const [smallPath, smallShards, bigPath, bigShards] = args.filter(
    (arg, i) => arg !== '--detail' && i !== topAt && i !== topAt + 1,
  );
  const n = Number(smallShards);
  const m = Number(bigShards);
  if (!smallPath || !bigPath || !(m > n))
    throw new Error(
      'usage: heap-summary SMALL.heapsnapshot N BIG.heapsnapshot M [--top K] [--detail]',
    );
  const small = groups(smallPath, detail);
  const big = groups(bigPath, detail);
  const added = m - n;
  const rows: { key: string; size: number; count: number }[] = [];
  let total = 0;
  for (const key of new Set([...small.keys(), ...big.keys()])) {
    const a = small.get(key) ?? { size: 0, count: 0 };
    const b = big.get(key) ?? { size: 0, count: 0 };
    const size = (b.size - a.size) / added;
    total += size;
    rows.push({ key, size, count: (b.count - a.count) / added });
  }
  rows.sort((x, y) => Math.abs(y.size) - Math.abs(x.size));
  const lines = [
    `Per added shard (${n} -> ${m} shards): ${total.toFixed(0)} bytes in all`,
    '',
    '| kind and constructor | bytes per shard | objects per shard |',
    '| --- | ---: | ---: |',
  ];
  let shown = 0;
  for (const row of rows.slice(0, top)) {
    shown += row.size;
    lines.push(`| ${row.key} | ${row.size.toFixed(0)} | ${row.count.toFixed(2)} |`);
  }
  lines.push(`| everything else | ${(total - shown).toFixed(0)} | |`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main(process.argv.slice(2));
