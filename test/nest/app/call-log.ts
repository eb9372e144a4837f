import { Injectable } from '@nestjs/common';
import type { GatewayEvent } from '../../../lib/nest/index.js';

/** One handler call as a consumer saw it. */
export interface Call {
  readonly handler: string;
  readonly type: string;
  readonly shardId: number;
  readonly args: readonly unknown[];
  readonly instance: object;
}

/** What the fixture consumers record; specs wait on it instead of sleeping. */
@Injectable()
export class CallLog {
  readonly calls: Call[] = [];
  private waiters: { predicate: () => boolean; resolve: () => void }[] = [];

  record(handler: string, instance: object, event: GatewayEvent, args: readonly unknown[]): void {
    this.calls.push({ handler, type: event.type, shardId: event.shardId, args, instance });
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.predicate()) return true;
      waiter.resolve();
      return false;
    });
  }

  of(handler: string, type?: string): Call[] {
    return this.calls.filter(
      (call) => call.handler === handler && (type === undefined || call.type === type),
    );
  }

  /** Resolves once `handler` was called `count` times (for `type`), rejects after `timeoutMs`. */
  waitFor(handler: string, count = 1, type?: string, timeoutMs = 10_000): Promise<Call[]> {
    const done = (): boolean => this.of(handler, type).length >= count;
    if (done()) return Promise.resolve(this.of(handler, type));
    return new Promise<Call[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.predicate !== done);
        reject(
          new Error(
            `${handler} was called ${this.of(handler, type).length} times, expected ${count}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push({
        predicate: done,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.of(handler, type));
        },
      });
    });
  }
}
