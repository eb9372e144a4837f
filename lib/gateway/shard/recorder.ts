import { closeSync, openSync, writeSync } from 'node:fs';

const NEWLINE = 0x0a;

/**
 * Appends every gateway payload a shard receives to a JSON-lines file (option `recordTo`),
 * in the format FakeGateway replays. Only received payloads are written: what the shard
 * sends (IDENTIFY and RESUME carry the token) never is. Writes are synchronous so the file is
 * complete whenever the shard stops, and nothing stays open after {@link close}.
 *
 * A recording never stops the shard: the first write that fails (a full disk, a payload that
 * cannot be serialized) closes the file, is reported once through `onFailure`, and every later
 * write is a no-op.
 */
export class PayloadRecorder {
  private fd: number | null;

  /**
   * Opens (creates or appends to) `path`.
   * @param onFailure called once, with the error, when a write fails and recording stops
   * @throws the fs error when it cannot be opened.
   */
  constructor(
    path: string,
    private readonly onFailure: (error: unknown) => void,
  ) {
    this.fd = openSync(path, 'a', 0o600);
  }

  /** Whether payloads are still being written. */
  get recording(): boolean {
    return this.fd !== null;
  }

  /** Appends one complete (inflated) JSON message as one line. Never throws. */
  write(message: Buffer | string): void {
    if (this.fd === null) return;
    let line: Buffer | string;
    try {
      line =
        typeof message === 'string'
          ? message.includes('\n')
            ? JSON.stringify(JSON.parse(message))
            : message
          : message.includes(NEWLINE)
            ? JSON.stringify(JSON.parse(message.toString('utf8')))
            : message;
    } catch {
      return; // a message that is not JSON cannot be replayed
    }
    this.append(line);
  }

  /** Appends a decoded payload (the ETF path) as one JSON line. Never throws. */
  writeValue(payload: unknown): void {
    if (this.fd === null) return;
    let line: string;
    try {
      line = JSON.stringify(payload);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.append(line);
  }

  /** Closes the file; idempotent. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      closeSync(fd);
    } catch {
      // Nothing more will be written to it either way.
    }
  }

  private append(line: Buffer | string): void {
    try {
      if (typeof line === 'string') writeSync(this.fd as number, line);
      else writeSync(this.fd as number, line);
      writeSync(this.fd as number, '\n');
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    this.close();
    this.onFailure(error);
  }
}
