import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';

/** Options of {@link RedisServer.start}. */
export interface RedisServerOptions {
  /** The `redis-server` binary. Default {@link RedisServer.binary}. */
  readonly binary?: string;
  /** TCP port on 127.0.0.1. Default: a free one. */
  readonly port?: number;
}

/**
 * A throwaway `redis-server` (the Debian package's binary) for tests, benchmarks and demos:
 * bound to 127.0.0.1 on a free port, with persistence off (no RDB snapshot, no AOF), so a
 * {@link restart} loses every key, as a production Redis without persistence does. It keeps
 * its port across restarts. Never leave one running: {@link stop} it.
 *
 * @example
 * const redis = await RedisServer.start();
 * // new Redis(redis.port, '127.0.0.1') ...
 * await redis.stop();
 */
export class RedisServer {
  private child: ChildProcess | null = null;
  private output = '';

  private constructor(
    readonly binary: string,
    private currentPort: number,
  ) {}

  /**
   * The binary to run: env `REDIS_SERVER_BIN`, else `redis-server` on the PATH; `null` when it
   * does not answer `--version` as Redis.
   */
  static binary(): string | null {
    const candidate = process.env.REDIS_SERVER_BIN || 'redis-server';
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    return probe.status === 0 && /Redis server/.test(probe.stdout) ? candidate : null;
  }

  /**
   * Starts a server and waits until it answers PING.
   * @throws Error when there is no binary, or it exits or stays silent for 10 s.
   */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const binary = options.binary ?? RedisServer.binary();
    if (binary === null) {
      throw new Error(
        'redis-server not found (install the redis-server package, or set REDIS_SERVER_BIN)',
      );
    }
    const server = new RedisServer(binary, options.port ?? (await freePort()));
    await server.start();
    return server;
  }

  get port(): number {
    return this.currentPort;
  }

  /** `redis://127.0.0.1:<port>` */
  get url(): string {
    return `redis://127.0.0.1:${this.currentPort}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** The server's process id while it runs (for reading its CPU time), else `null`. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Starts it again after {@link stop} (same port); does nothing while it runs. */
  async start(): Promise<void> {
    if (this.child !== null) return;
    this.output = '';
    const child = spawn(
      this.binary,
      [
        '--port',
        String(this.currentPort),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => this.keep(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.keep(chunk));
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    const deadline = Date.now() + 10_000;
    while (!(await ping(this.currentPort))) {
      if (this.child !== child) {
        throw new Error(`redis-server exited on port ${this.currentPort}: ${this.output.trim()}`);
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`redis-server did not answer on port ${this.currentPort} within 10 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops it (SIGTERM: nothing is saved; SIGKILL after 10 s) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }

  /** Stops it, waits `downMs`, and starts it again on the same port: every key is gone. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  private keep(chunk: Buffer): void {
    this.output = (this.output + chunk.toString()).slice(-4_000);
  }
}

/** A free TCP port on 127.0.0.1: the OS picks it, and it is released for the caller to bind. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port was assigned'));
      });
    });
  });
}

/** Whether a Redis on 127.0.0.1:`port` answers PING (RESP inline command) within 1 s. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}
