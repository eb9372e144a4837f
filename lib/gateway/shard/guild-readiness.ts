import { GatewayIntentBits } from 'discord-api-types/v10';
import type { Clock, TimerHandle } from '../clock/clock.js';
import { EventType } from '../events/event-type.js';
import type { ShardContext } from './shard-context.js';

/**
 * Guild readiness after READY (GW-GT-11): READY lists the shard's guilds as unavailable and a
 * GUILD_CREATE (or GUILD_DELETE) follows for each. SHARD_GUILDS_READY is emitted once every
 * listed guild arrived, or when none arrived for `timeoutMs` (`timedOut: true`, the missing
 * ids in `unavailable`). Without the Guilds intent no GUILD_CREATE comes: it is emitted at
 * once.
 */
export class GuildReadiness {
  /** Guild ids still awaited; `null` when not tracking (the receive path decodes their events). */
  pending: Set<string> | null = null;
  private guildCount = 0;
  private timer: TimerHandle | undefined = undefined;
  private onDone: (() => void) | undefined = undefined;

  private readonly clock: Clock;
  private readonly intents: number;
  /** The longest wait (ms) between two arrivals (`timeouts.guildsReadyMs`). */
  private readonly timeoutMs: number;

  constructor(private readonly ctx: ShardContext) {
    this.clock = ctx.clock;
    this.intents = ctx.config.intents;
    this.timeoutMs = ctx.config.timeouts.guildsReadyMs;
  }

  /** READY listed `guildIds`; `onDone` runs just before SHARD_GUILDS_READY. */
  start(guildIds: string[], onDone?: () => void): void {
    this.stop();
    this.guildCount = guildIds.length;
    if ((this.intents & GatewayIntentBits.Guilds) === 0 || guildIds.length === 0) {
      onDone?.();
      this.ctx.delivery.emit(EventType.ShardGuildsReady, {
        guildCount: guildIds.length,
        unavailable: [],
        timedOut: false,
      });
      return;
    }
    this.pending = new Set(guildIds);
    this.onDone = onDone;
    this.arm();
  }

  /** A GUILD_CREATE or GUILD_DELETE arrived with data `d`. */
  arrived(d: unknown): void {
    const id = (d as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || !this.pending?.delete(id)) return;
    if (this.pending.size === 0) this.finish(false);
    else this.arm();
  }

  /** Stops tracking without an event (the session or the shard ended). */
  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = null;
    this.onDone = undefined;
  }

  private arm(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.finish(true);
    }, this.timeoutMs);
  }

  private finish(timedOut: boolean): void {
    const unavailable = this.pending === null ? [] : [...this.pending];
    const onDone = this.onDone;
    this.stop();
    onDone?.();
    if (timedOut) {
      this.ctx.logger.warn(
        `${this.ctx.prefix} ${unavailable.length} guilds still unavailable after ${this.timeoutMs} ms`,
      );
    }
    this.ctx.delivery.emit(EventType.ShardGuildsReady, {
      guildCount: this.guildCount,
      unavailable,
      timedOut,
    });
  }
}
