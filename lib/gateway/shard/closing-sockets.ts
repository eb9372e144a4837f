import WebSocket from 'ws';

/** Real-time grace for a closing socket's close handshake before it is terminated. */
const CLOSE_GRACE_MS = 2_000;

/**
 * The sockets a shard let go whose close handshake is still running: close() waits for them
 * (up to {@link CLOSE_GRACE_MS}), so no socket of a closed shard remains.
 */
export class ClosingSockets {
  /** Created by the first close: most shards never close a socket. */
  private sockets: Set<WebSocket> | null = null;

  /**
   * Detaches every listener of `socket` and closes it: with `closeCode` when it is open,
   * else (or for `null`) it is terminated at once.
   */
  close(socket: WebSocket, closeCode: number | null): void {
    socket.removeAllListeners();
    socket.on('error', ignore);
    if (socket.readyState === WebSocket.CLOSED) return;
    const closing = (this.sockets ??= new Set());
    closing.add(socket);
    socket.once('close', () => closing.delete(socket));
    if (closeCode === null || socket.readyState !== WebSocket.OPEN) {
      socket.terminate();
      return;
    }
    try {
      socket.close(closeCode);
    } catch {
      socket.terminate();
    }
  }

  /** Resolves once every closing socket has closed; terminates those left after the grace. */
  drain(): Promise<void> {
    const closing = this.sockets;
    if (closing === null || closing.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const grace = setTimeout(() => {
        for (const socket of closing) socket.terminate();
      }, CLOSE_GRACE_MS);
      const check = (): void => {
        if (closing.size > 0) return;
        clearTimeout(grace);
        resolve();
      };
      for (const socket of closing) socket.once('close', () => setImmediate(check));
      check();
    });
  }
}

function ignore(): void {}
