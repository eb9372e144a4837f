import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FakeConnection } from './connection.js';
import type { FakeGateway } from './fake-gateway.js';
import { fromSource, testingDir } from './module-location.cjs';
import type { GatewayRecord, SentPayload } from './recording.js';
import type { FakeGatewayOptions } from './types.js';

/** The record lists a {@link FakeGatewayProcess} hands over. */
export type RecordList =
  | 'connections'
  | 'identifies'
  | 'resumes'
  | 'violations'
  | 'heartbeatRequests'
  | 'upgrades'
  | 'http';

/** A list as it crosses the process boundary: a copy, and the `sent` payloads without `d`. */
export type RecordSnapshot<K extends RecordList> = K extends 'connections'
  ? (Omit<GatewayRecord['connections'][number], 'sent'> & { sent: Omit<SentPayload, 'd'>[] })[]
  : GatewayRecord[K];

/** The FakeGateway methods a test can call across the process boundary. */
export type RemoteGatewayMethod =
  'dispatch' | 'nextConnections' | 'refuseUpgrades' | 'delayUpgrades' | 'rateLimitHttp';

/** The methods of a shard's newest open connection a test can call across the boundary. */
export type RemoteConnectionMethod =
  | 'dispatch'
  | 'reconnect'
  | 'invalidateSession'
  | 'stopAcking'
  | 'startAcking'
  | 'freeze'
  | 'close'
  | 'terminate'
  | 'requestHeartbeat'
  | 'sendMalformed';

/** Options that can be sent to another process (no injected clock, no custom encoders). */
export type RemoteGatewayOptions = Omit<FakeGatewayOptions, 'clock' | 'encodings'>;

/** @internal a request from {@link FakeGatewayProcess} to its child. */
export type ProcessRequest = { id: number } & (
  | { kind: 'start'; options: RemoteGatewayOptions }
  | { kind: 'record'; list: RecordList }
  | { kind: 'gateway'; method: RemoteGatewayMethod; args: unknown[] }
  | { kind: 'connection'; shardId: number; method: RemoteConnectionMethod; args: unknown[] }
  | { kind: 'stop' }
);

/** @internal the child's answer to one request. */
export type ProcessReply = { id: number } & (
  { ok: true; value: unknown } | { ok: false; message: string }
);

/** Where the child listens, as reported once it started. */
export interface ProcessUrls {
  url: string;
  resumeUrl: string;
  apiUrl: string;
}

/** Options of {@link FakeGatewayProcess.start}. */
export interface FakeGatewayProcessOptions {
  /**
   * Extra Node.js flags for the child. Run from the TypeScript sources (as this package's own
   * tests do), the child is started with `--import tsx` in addition.
   */
  execArgv?: readonly string[];
  /** How long the child may take to listen, real ms. Default 30_000. */
  startTimeoutMs?: number;
}

/**
 * A FakeGateway in a process of its own, for tests whose verdict depends on time (docs/protocol.md
 * section 11): its timers, its arrival stamps and its limits run on its own
 * event loop and real monotonic clock, so a client that is busy, or paces on a clock of its
 * own, cannot make its frames look punctual. Combine with the `network` option for transit
 * jitter. The record and the scripting methods are reached by message; every call is async.
 *
 * @example
 * const gw = await FakeGatewayProcess.start({ heartbeatIntervalMs: 1_000, network: { inbound: { jitterMs: 20 } } });
 * // connect a client to gw.url ...
 * await gw.connection(0, 'invalidateSession', false);
 * const identifies = await gw.record('identifies');
 * await gw.stop();
 */
export class FakeGatewayProcess implements ProcessUrls {
  readonly url: string;
  readonly resumeUrl: string;
  readonly apiUrl: string;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private nextId = 1;
  private exited: Promise<void>;
  private stopping: Promise<void> | null = null;

  private constructor(
    private readonly child: ChildProcess,
    urls: ProcessUrls,
  ) {
    this.url = urls.url;
    this.resumeUrl = urls.resumeUrl;
    this.apiUrl = urls.apiUrl;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (reply: ProcessReply) => this.settle(reply));
    child.once('exit', (code) => {
      for (const waiter of this.pending.values())
        waiter.reject(new Error(`FakeGatewayProcess: the gateway process exited (${code})`));
      this.pending.clear();
    });
  }

  /**
   * Forks the child and starts a FakeGateway in it with `options`. Rejects when the child
   * cannot start or listen within `startTimeoutMs`.
   */
  static async start(
    options: RemoteGatewayOptions = {},
    { execArgv = [], startTimeoutMs = 30_000 }: FakeGatewayProcessOptions = {},
  ): Promise<FakeGatewayProcess> {
    const entry = join(testingDir, fromSource ? 'gateway-child.ts' : 'gateway-child.js');
    const flags = fromSource ? ['--import', 'tsx', ...execArgv] : [...execArgv];
    // NODE_OPTIONS of a test runner (e.g. jest's --experimental-vm-modules) is not the gateway's.
    const { NODE_OPTIONS: _ignored, ...env } = process.env;
    const child = fork(entry, [], {
      execArgv: flags,
      env,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const start: ProcessRequest = { id: 0, kind: 'start', options };
    const urls = await new Promise<ProcessUrls>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`FakeGatewayProcess: no answer within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      const done = (error: Error | null, value?: ProcessUrls): void => {
        clearTimeout(timer);
        child.off('message', onReply);
        child.off('exit', onExit);
        if (error === null) resolve(value!);
        else reject(error);
      };
      const onReply = (reply: ProcessReply): void => {
        if (reply.id !== 0) return;
        if (reply.ok) done(null, reply.value as ProcessUrls);
        else {
          child.kill();
          done(new Error(`FakeGatewayProcess: ${reply.message}`));
        }
      };
      const onExit = (code: number | null): void =>
        done(new Error(`FakeGatewayProcess: the gateway process exited (${code}) while starting`));
      child.on('message', onReply);
      child.once('exit', onExit);
      child.send(start);
    });
    return new FakeGatewayProcess(child, urls);
  }

  /** The child's process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** A copy of one list of the gateway's record, taken now. */
  record<K extends RecordList>(list: K): Promise<RecordSnapshot<K>> {
    return this.request({ kind: 'record', list }) as Promise<RecordSnapshot<K>>;
  }

  /** Calls a FakeGateway method in the child; resolves with its (copied) result. */
  gateway<M extends RemoteGatewayMethod>(
    method: M,
    ...args: Parameters<FakeGateway[M]>
  ): Promise<Awaited<ReturnType<FakeGateway[M]>>> {
    return this.request({ kind: 'gateway', method, args }) as Promise<
      Awaited<ReturnType<FakeGateway[M]>>
    >;
  }

  /**
   * Calls a method on the newest open connection of `shardId` (`FakeGateway.connectionFor`).
   * Rejects when the shard has none.
   */
  connection<M extends RemoteConnectionMethod>(
    shardId: number,
    method: M,
    ...args: Parameters<FakeConnection[M]>
  ): Promise<ReturnType<FakeConnection[M]>> {
    return this.request({ kind: 'connection', shardId, method, args }) as Promise<
      ReturnType<FakeConnection[M]>
    >;
  }

  /**
   * Polls one record list every `pollMs` (default 20) real ms until `check` returns a truthy
   * value, and resolves with it. Rejects after `timeoutMs` (default 10_000).
   */
  async waitFor<K extends RecordList, T>(
    list: K,
    check: (entries: RecordSnapshot<K>) => T | null | undefined | false,
    { timeoutMs = 10_000, pollMs = 20 }: { timeoutMs?: number; pollMs?: number } = {},
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check(await this.record(list));
      if (value) return value;
      if (Date.now() > deadline)
        throw new Error(`FakeGatewayProcess.waitFor(${list}): still false after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Stops the gateway (as `FakeGateway.stop()`) and waits for the child to exit. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.child.exitCode === null && this.child.connected) {
        await this.request({ kind: 'stop' }).catch(() => undefined);
      }
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(killer);
    })();
    return this.stopping;
  }

  private request(body: DistributiveOmit<ProcessRequest, 'id'>): Promise<unknown> {
    if (!this.child.connected)
      return Promise.reject(new Error('FakeGatewayProcess: the gateway process is gone'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...body, id } as ProcessRequest);
    });
  }

  private settle(reply: ProcessReply): void {
    const waiter = this.pending.get(reply.id);
    if (waiter === undefined) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(new Error(`FakeGatewayProcess: ${reply.message}`));
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
