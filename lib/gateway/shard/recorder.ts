import { closeSync, openSync, writeSync } from 'node:fs';

const NEWLINE = 0x0a;

/**
 * Appends every gateway payload a shard receives to a JSON-lines file (option `recordTo`),
 * in the format FakeGateway replays. Only received payloads are written: what the shard
 * sends (IDENTIFY and RESUME carry the token) never is. Writes are synchronous so the file is
 * complete whenever the shard stops, and nothing stays open after {@link close}.
 */
export class PayloadRecorder {
  private fd: number | null;

  /** Opens (creates or appends to) `path`. @throws the fs error when it cannot be opened. */
  constructor(path: string) {
    this.fd = openSync(path, 'a', 0o600);
  }

  /** Appends one complete (inflated) message as one line. */
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
    if (typeof line === 'string') writeSync(this.fd, line);
    else writeSync(this.fd, line);
    writeSync(this.fd, '\n');
  }

  /** Closes the file; idempotent. */
  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}
