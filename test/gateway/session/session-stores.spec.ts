import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { jest } from '@jest/globals';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayLogger } from '../../../lib/gateway/logger.js';
import { FileSessionStore } from '../../../lib/gateway/session/file-session-store.js';
import { MemorySessionStore } from '../../../lib/gateway/session/memory-session-store.js';
import type { Session, SessionStore } from '../../../lib/gateway/session/session.js';

const session: Session = {
  id: 'a1b2c3',
  sequence: 42,
  resumeUrl: 'wss://gateway-us-east1-b.discord.gg',
};

function recordingLogger(): GatewayLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug: () => {},
    log: () => {},
    warn: (m) => warnings.push(m),
    error: () => {},
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sessions-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each<[string, () => SessionStore]>([
  ['MemorySessionStore', () => new MemorySessionStore()],
  ['FileSessionStore', () => new FileSessionStore(join(dir, 'sessions.json'))],
])('%s', (_name, create) => {
  it('saves, loads and deletes by shard id and shard count', async () => {
    const store = create();
    expect(await store.load(3, 16)).toBeNull();
    await store.save(3, 16, session);
    await store.save(4, 16, { ...session, id: 'other' });
    expect(await store.load(3, 16)).toEqual(session);
    expect((await store.load(4, 16))?.id).toBe('other');
    await store.delete(3, 16);
    expect(await store.load(3, 16)).toBeNull();
    expect((await store.load(4, 16))?.id).toBe('other');
    await store.delete(9, 16);
  });

  it('never returns a session stored for another shard count', async () => {
    const store = create();
    await store.save(1, 2, session);
    expect(await store.load(1, 4)).toBeNull();
    expect(await store.load(1, 2)).toEqual(session);
  });

  it('stores a copy: later changes to the saved object do not leak in', async () => {
    const store = create();
    const mutable = { ...session };
    await store.save(0, 1, mutable);
    mutable.id = 'changed';
    expect((await store.load(0, 1))?.id).toBe(session.id);
  });

  it('keeps a session generation when there is one, and sessions without one load unchanged', async () => {
    const store = create();
    await store.save(0, 2, { ...session, generation: 7 });
    await store.save(1, 2, session);
    expect(await store.load(0, 2)).toEqual({ ...session, generation: 7 });
    expect(await store.load(1, 2)).toEqual(session);
    expect(await store.load(1, 2)).not.toHaveProperty('generation');
  });
});

describe('FileSessionStore', () => {
  it('survives a restart: a new store on the same file loads what the old one saved', async () => {
    const path = join(dir, 'nested', 'sessions.json');
    await new FileSessionStore(path).save(2, 4, session);
    expect(await new FileSessionStore(path).load(2, 4)).toEqual(session);
  });

  it('writes one JSON file keyed by shardCount:shardId, mode 0o600, no temp file left', async () => {
    const path = join(dir, 'sessions.json');
    const store = new FileSessionStore(path);
    await Promise.all([store.save(0, 2, session), store.save(1, 2, { ...session, sequence: 7 })]);
    const content = JSON.parse(await readFile(path, 'utf8'));
    expect(content).toEqual({
      version: 1,
      sessions: { '2:0': session, '2:1': { ...session, sequence: 7 } },
    });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['sessions.json']);
  });

  it('concurrent saves of many shards all land (writes are serialized)', async () => {
    const path = join(dir, 'sessions.json');
    const store = new FileSessionStore(path);
    await Promise.all(
      Array.from({ length: 16 }, (_, id) => store.save(id, 16, { ...session, sequence: id })),
    );
    const entries = await store.entries();
    expect(Object.keys(entries)).toHaveLength(16);
    expect(entries['16:15'].sequence).toBe(15);
  });

  it('a corrupt file is logged and read as empty; the next save replaces it', async () => {
    const path = join(dir, 'sessions.json');
    await writeFile(path, '{"version":1,"sessions":{"2:0":');
    const logger = recordingLogger();
    const store = new FileSessionStore(path, logger);
    expect(await store.load(0, 2)).toBeNull();
    expect(logger.warnings[0]).toContain('not valid JSON');
    await store.save(0, 2, session);
    expect(await new FileSessionStore(path).load(0, 2)).toEqual(session);
  });

  it('skips invalid entries and unknown formats with a warning', async () => {
    const path = join(dir, 'sessions.json');
    const logger = recordingLogger();
    await writeFile(
      path,
      JSON.stringify({ version: 1, sessions: { '2:0': session, '2:1': { id: 5 }, junk: session } }),
    );
    const store = new FileSessionStore(path, logger);
    expect(await store.load(0, 2)).toEqual(session);
    expect(await store.load(1, 2)).toBeNull();
    expect(logger.warnings).toHaveLength(4); // '2:1' and 'junk', once per load
    await writeFile(path, JSON.stringify([1, 2]));
    expect(await store.load(0, 2)).toBeNull();
    expect(logger.warnings.at(-1)).toContain('unknown format');
  });

  it('loads a file written before sessions had a generation; an invalid generation skips the entry', async () => {
    const path = join(dir, 'sessions.json');
    const logger = recordingLogger();
    await writeFile(
      path,
      JSON.stringify({
        version: 1,
        sessions: { '2:0': session, '2:1': { ...session, generation: -1 } },
      }),
    );
    const store = new FileSessionStore(path, logger);
    expect(await store.load(0, 2)).toEqual(session);
    expect(await store.load(1, 2)).toBeNull();
    expect(logger.warnings.some((w) => w.includes("invalid entry '2:1'"))).toBe(true);
  });

  it('a missing file is an empty store, without a warning', async () => {
    const logger = recordingLogger();
    expect(await new FileSessionStore(join(dir, 'none.json'), logger).load(0, 1)).toBeNull();
    expect(logger.warnings).toEqual([]);
  });
});

describe('FileSessionStore against a hostile or damaged file', () => {
  /** The pid of a process that has exited: a temp file named after it was left by a dead write. */
  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => child.once('exit', resolve));
    return child.pid!;
  }

  it('temp files left by a write killed mid-way are deleted on the next load; a live writer keeps its own', async () => {
    const path = join(dir, 'sessions.json');
    await new FileSessionStore(path).save(0, 1, session);
    const dead = `sessions.json.${await deadPid()}.0123456789ab.tmp`;
    const live = `sessions.json.${process.ppid}.ba9876543210.tmp`;
    for (const name of [dead, live, 'other.json.1.0123456789ab.tmp'])
      await writeFile(join(dir, name), '{"version":1,"sess');
    const logger = recordingLogger();
    expect(await new FileSessionStore(path, logger).load(0, 1)).toEqual(session);
    expect((await readdir(dir)).sort()).toEqual(
      [live, 'other.json.1.0123456789ab.tmp', 'sessions.json'].sort(),
    );
    expect(logger.warnings).toEqual([expect.stringContaining(dead)]);
  });

  it('each write is flushed to disk (fsync) before it replaces the file', async () => {
    const path = join(dir, 'sessions.json');
    const store = new FileSessionStore(path);
    await store.save(0, 1, session);
    const probe = await open(path, 'r');
    const handlePrototype = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
    await probe.close();
    const seen: string[] = [];
    const sync = jest.spyOn(handlePrototype, 'sync').mockImplementation(async function (
      this: unknown,
    ) {
      // At the flush the new content is only in the temp file; the rename comes after.
      seen.push(readFileSync(path, 'utf8'));
    });
    try {
      await store.save(1, 1, { ...session, id: 'second' });
    } finally {
      sync.mockRestore();
    }
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen[0]).not.toContain('second');
    expect(await new FileSessionStore(path).load(1, 1)).toMatchObject({ id: 'second' });
  });

  it.each([
    ['a 5000-character session id', { ...session, id: 'a'.repeat(5_000) }],
    ['a session id with a newline and an ANSI escape', { ...session, id: 'abc\n\u001b[2J' }],
    ['a negative sequence', { ...session, sequence: -1 }],
    ['a 10 kB resume URL', { ...session, resumeUrl: `wss://${'a'.repeat(10_000)}.example` }],
  ])('an entry with %s is skipped with a warning: the shard identifies', async (_name, entry) => {
    const path = join(dir, 'sessions.json');
    await writeFile(path, JSON.stringify({ version: 1, sessions: { '1:0': entry } }));
    const logger = recordingLogger();
    expect(await new FileSessionStore(path, logger).load(0, 1)).toBeNull();
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).not.toContain('\n');
    expect(logger.warnings[0]).not.toContain('\u001b');
  });

  it('an invalid key is quoted escaped and cut, never raw', async () => {
    const path = join(dir, 'sessions.json');
    const key = `\u001b[31m${'x'.repeat(500)}\n[gateway] forged line`;
    await writeFile(path, JSON.stringify({ version: 1, sessions: { [key]: session } }));
    const logger = recordingLogger();
    await new FileSessionStore(path, logger).load(0, 1);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).not.toContain('\n');
    expect(logger.warnings[0]).not.toContain('\u001b');
    expect(logger.warnings[0].length).toBeLessThan(200);
  });
});
