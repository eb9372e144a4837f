import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files of the repository worth reading: sources, docs, configs; no installs, no builds. */
function repositoryFiles(dir = '.'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (['node_modules', 'dist', 'coverage', '.git', '.sessions'].includes(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return repositoryFiles(path);
    return /\.(c?ts|m?js|md|json|yml|sh)$|^run$|^[a-z0-9-]+$/.test(entry.name) &&
      entry.name !== 'package-lock.json'
      ? [path]
      : [];
  });
}

const protocol = readFileSync('docs/protocol.md', 'utf8');
/** The IDs docs/protocol.md defines: each bold where its rule is stated. */
const defined = new Set([...protocol.matchAll(/\*\*(GW-[A-Z]+-\d+)\*\*/g)].map((m) => m[1]));
/** Its numbered sections. */
const sections = new Set([...protocol.matchAll(/^## (\d+)\. /gm)].map((m) => Number(m[1])));

const files = repositoryFiles().filter((file) => file !== join('docs', 'protocol.md'));
const texts = files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));

describe('the repository stands alone', () => {
  it('every rule ID cited anywhere is defined in docs/protocol.md', () => {
    const undefinedIds = texts.flatMap(({ file, text }) =>
      [...text.matchAll(/GW-[A-Z]+-\d+/g)]
        .map((m) => m[0])
        .filter((id) => !defined.has(id))
        .map((id) => `${file}: ${id}`),
    );
    expect(defined.size).toBeGreaterThan(60);
    expect([...new Set(undefinedIds)]).toEqual([]);
  });

  it('every "docs/protocol.md section N" names a section it has', () => {
    const missing = texts.flatMap(({ file, text }) =>
      [...text.matchAll(/docs\/protocol\.md\s+(?:\*\s+)?sections?\s+(\d+)(?:(?:-| and )(\d+))?/g)]
        .flatMap((m) => [m[1], m[2]].filter((n) => n !== undefined).map(Number))
        .filter((n) => !sections.has(n))
        .map((n) => `${file}: section ${n}`),
    );
    expect(missing).toEqual([]);
  });

  it('nothing refers to documents or folders outside it, except the fixtures folder default', () => {
    // Built from pieces so that this file does not match itself.
    const outside = new RegExp(
      ['PROTOCOL', 'DESIGN', 'STYLE'].map((name) => `\\b${name}\\.md`).join('|') +
        `|/${'work'}/|\\.\\./${'shared'}(?!/fixtures)`,
    );
    const offenders = texts.flatMap(({ file, text }) =>
      text
        .split('\n')
        .map((line, index) => ({ line, index }))
        .filter(({ line }) => outside.test(line))
        .map(({ line, index }) => `${file}:${index + 1}: ${line.trim()}`),
    );
    expect(offenders).toEqual([]);
  });
});
