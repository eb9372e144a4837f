import { Console } from 'node:console';
import { inspect } from 'node:util';
import { Writable } from 'node:stream';
import { consoleLogger, printable } from '../../lib/gateway/logger.js';

/** Runs `body` with a real Console (it formats its arguments) writing into `lines`. */
function withConsole(lines: string[], body: () => void): void {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const original = globalThis.console;
  globalThis.console = new Console({ stdout: sink, stderr: sink });
  try {
    body();
  } finally {
    globalThis.console = original;
  }
}

describe('consoleLogger (the core default) with hostile values', () => {
  const hostile: [string, unknown][] = [
    [
      'an object whose inspect throws',
      {
        [inspect.custom]() {
          throw new Error('no');
        },
      },
    ],
    [
      'a Proxy whose every trap throws',
      new Proxy(
        {},
        {
          get() {
            throw new Error('trap');
          },
          ownKeys() {
            throw new Error('trap');
          },
          getPrototypeOf() {
            throw new Error('trap');
          },
        },
      ),
    ],
    [
      'an Error whose stack getter throws',
      Object.defineProperty(new Error('x'), 'stack', {
        get() {
          throw new Error('no stack');
        },
      }),
    ],
  ];

  it.each(hostile)('error(message, %s) writes one line and never throws', (_name, value) => {
    const lines: string[] = [];
    withConsole(lines, () => {
      expect(() =>
        consoleLogger('error').error('a listener of MESSAGE_CREATE threw', value),
      ).not.toThrow();
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('[gateway] a listener of MESSAGE_CREATE threw');
  });

  it('an ordinary Error keeps its stack in the line', () => {
    const lines: string[] = [];
    withConsole(lines, () => consoleLogger('error').error('failed', new TypeError('bad thing')));
    expect(lines[0]).toContain('TypeError: bad thing');
    expect(lines[0]).toContain('logger.spec.ts');
  });
});

describe('consoleLogger label', () => {
  it('writes [gateway] by default, at the level given', () => {
    const lines: string[] = [];
    withConsole(lines, () => {
      const logger = consoleLogger('warn');
      logger.warn('Consumer consumer-b lost its lease of shard 3');
      logger.log('a milestone below the level');
    });
    expect(lines).toEqual(['[gateway] Consumer consumer-b lost its lease of shard 3\n']);
  });

  it('writes the label given instead, on every level and with an error', () => {
    const lines: string[] = [];
    withConsole(lines, () => {
      const logger = consoleLogger('debug', 'consumer-b');
      logger.debug('d');
      logger.log('l');
      logger.warn('w');
      logger.error('failed', new TypeError('bad thing'));
    });
    expect(lines.slice(0, 3)).toEqual(['[consumer-b] d\n', '[consumer-b] l\n', '[consumer-b] w\n']);
    expect(lines[3]).toMatch(/^\[consumer-b\] failed: TypeError: bad thing/);
    expect(lines.join('')).not.toContain('[gateway]');
  });
});

describe('printable (text from the network or a file, for one log line)', () => {
  it('escapes ANSI escapes, newlines and other controls, so no line can be forged', () => {
    expect(printable('ok\n[gateway] forged\u001b[31mred\r\t\u0000\u009b\u2028\u202e')).toBe(
      'ok\\n[gateway] forged\\u001b[31mred\\r\\t\\u0000\\u009b\\u2028\\u202e',
    );
  });

  it('cuts at maxLength characters and marks the cut', () => {
    expect(printable('abcdef', 4)).toBe('abcd...');
    expect(printable('abcd', 4)).toBe('abcd');
    expect(printable('Ünïcödé stays', 120)).toBe('Ünïcödé stays');
  });
});
