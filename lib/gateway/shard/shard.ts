import { inspect } from 'node:util';
import type {
  GatewayRequestChannelInfoData,
  GatewayRequestGuildMembersData,
  GatewayRequestSoundboardSoundsData,
} from 'discord-api-types/v10';
import { normalizeShardOptions, type PresenceInput, type ShardOptions } from '../config/index.js';
import { ShardClosedError } from '../errors/errors.js';
import type { EventTypeFlags } from '../events/event-type-flags.js';
import type { GatewayEvent, GatewayEventListener } from '../events/gateway-event.js';
import type { Session } from '../session/session.js';
import {
  buildRequestChannelInfo,
  buildRequestGuildMembers,
  buildRequestSoundboardSounds,
  buildUpdatePresence,
  buildUpdateVoiceState,
  type GatewayCommand,
} from './commands.js';
import type { LatencySnapshot } from './latency.js';
import { ShardDriver } from './shard-driver.js';
import type { ShardDeps, ShardInfo } from './shard-info.js';
import type { ShardObserver } from './shard-observer.js';
import type { ShardState } from './shard-state.js';
import type { ShardStats } from './stats.js';

export type { ShardDeps, ShardInfo } from './shard-info.js';
export type { ShardStats } from './stats.js';

/**
 * One Discord gateway session over one WebSocket at a time (docs/protocol.md
 * sections 1-11 and 15).
 *
 * States: `Disconnected -> Connecting -> Identifying | Resuming -> Active`, back to
 * `Disconnected` and a new connection after a resumable or reconnectable close,
 * `FatallyClosed` after 4004/4010-4014, `Closed` after {@link close}.
 *
 * Delivery: listeners are called synchronously, in arrival order; a listener that throws (or
 * returns a rejected promise) is logged and the shard goes on. Dispatches go out exactly once
 * per session: a dispatch whose `s` is not above the last one seen in the session is dropped.
 * The `eventTypes` filter applies to Discord dispatches and UNKNOWN_EVENT; lifecycle events
 * (`SHARD_*`) are always delivered.
 *
 * Bad frames (issue 6): a frame that cannot be decoded, or is over `limits.maxFrameBytes`, is
 * reported (SHARD_ERROR + warn) and the connection is replaced with a RESUME; a decodable
 * payload that breaks the protocol is reported and ignored (see `ReceivePath`).
 *
 * IDENTIFY always sends `compress: false`: payload compression is not supported (transport
 * compression, `compression` option, is).
 *
 * `ShardDriver` runs it: one socket at a time and one clock, wired to single-concern parts:
 * `Handshake` (handshake and session policy), `ResumeUrlPolicy`, `GuildReadiness`,
 * `CommandPump` (outgoing commands and their limiters), `ReceivePath` (inflate, peek, decode,
 * sequence), `EventDelivery` (listeners and buffers), `Reconnector` and the close-code table.
 *
 * @example
 * const shard = new Shard({ token, intents: ['Guilds', 'GuildMessages'] });
 * shard.addListener((event) => console.log(event.type));
 * await shard.connect();
 */
export class Shard {
  /** Zero-based shard id. */
  readonly id: number;
  /** Shard count (`num_shards` of IDENTIFY). */
  readonly total: number;

  private readonly bufferSize: number;
  private readonly driver: ShardDriver;

  /**
   * @param options see `ShardOptions` (token and intents required).
   * @throws ConfigError listing every invalid option.
   */
  constructor(options: ShardOptions, deps: ShardDeps = {}) {
    const config = normalizeShardOptions(options);
    this.id = config.shardId;
    this.total = config.shardCount;
    this.bufferSize = config.bufferSize;
    this.driver = new ShardDriver(config, deps);
  }

  /** The current state; every change is also emitted as SHARD_STATE_CHANGED. */
  get state(): ShardState {
    return this.driver.state;
  }

  /**
   * What a RESUME needs (GW-RS-1), or `null` when there is no session. Pass it as the
   * `session` option of a new shard to resume on its first connect.
   */
  get session(): Session | null {
    return this.driver.handshake.session;
  }

  /** Heartbeat round trips (ms): average over all samples and the most recent few. */
  get latency(): LatencySnapshot {
    return this.driver.latency.snapshot();
  }

  /** Receive-path counters (a copy). */
  get stats(): ShardStats {
    const driver = this.driver;
    return { ...driver.counters, eventsDropped: driver.delivery.dropped };
  }

  /**
   * The decode filter: dispatches whose type is not set are not decoded (only peeked, their
   * sequence tracked) and not delivered. Setting it takes effect from the next frame.
   */
  get eventTypes(): EventTypeFlags {
    return this.driver.filter.flags;
  }

  set eventTypes(flags: EventTypeFlags) {
    this.driver.filter.set(flags);
  }

  info(): ShardInfo {
    const driver = this.driver;
    return {
      id: this.id,
      total: this.total,
      state: driver.state,
      latency: driver.latency.snapshot(),
      sessionId: driver.handshake.sessionId,
      sequence: driver.handshake.sequence,
      reconnects: driver.reconnect.count,
      lastClose: driver.lastClose,
      activeSince: driver.activeSince,
      inactiveSince: driver.inactiveSince,
    };
  }

  /**
   * Attaches metrics hooks to the receive path, IDENTIFY and heartbeat ACKs (see
   * {@link ShardObserver}); `null` detaches them. A cluster does this through `Cluster.observe`.
   */
  observe(observer: ShardObserver | null): void {
    this.driver.observe(observer);
  }

  /** Adds a listener of every event of this shard; returns its unsubscribe function. */
  addListener(listener: GatewayEventListener): () => void {
    return this.driver.delivery.addListener(listener);
  }

  /**
   * The shard's events as an AsyncIterable over a bounded buffer (default `bufferSize`
   * option, 1000): when the consumer falls behind, new events are dropped, counted
   * (`stats.eventsDropped`) and logged once per burst. Ends after close() or a fatal stop,
   * once the buffered events are consumed; `break` unsubscribes.
   */
  events(options: { bufferSize?: number } = {}): AsyncIterableIterator<GatewayEvent> {
    return this.driver.delivery.events(options.bufferSize ?? this.bufferSize);
  }

  /**
   * Starts the shard (resuming when a session exists, else identifying through the queue).
   * Resolves when the shard is first Active. Rejects with FatalCloseError on a fatal close
   * code and with ShardClosedError when close() comes first. Calling it again while running
   * returns a promise for the same moment.
   */
  connect(): Promise<void> {
    return this.driver.connect();
  }

  /**
   * Sends a payload once the shard is Active (identified or resumed): commands queue in
   * order, survive reconnects, and respect the per-connection send limit (GW-RL-1) and, for
   * op 3, the presence limit (GW-RL-4). Resolves when the payload was written to the socket.
   *
   * @throws (rejects) PayloadTooLargeError over 4096 bytes (GW-ENV-4), before the socket;
   *   ShardClosedError when the shard is or becomes closed first.
   */
  send(payload: GatewayCommand): Promise<void> {
    if (this.driver.stopped) {
      return Promise.reject(new ShardClosedError(this.id, `op ${payload.op} send`));
    }
    return this.driver.send(payload);
  }

  /**
   * Op 3 Update Presence (at most 5 per 20 s, GW-RL-4); omitted fields default to `since: null`,
   * `activities: []`, `status: 'online'`, `afk: false`. @throws (rejects) CommandError on a bad shape.
   */
  updatePresence(data: PresenceInput): Promise<void> {
    return this.sendBuilt(() => buildUpdatePresence(data));
  }

  /** Op 8 Request Guild Members (nonce <= 32 bytes, GW-GT-19). @throws (rejects) CommandError. */
  requestGuildMembers(data: GatewayRequestGuildMembersData): Promise<void> {
    return this.sendBuilt(() => buildRequestGuildMembers(data));
  }

  /** Op 4 Update Voice State. @throws (rejects) CommandError. */
  updateVoiceState(data: Parameters<typeof buildUpdateVoiceState>[0]): Promise<void> {
    return this.sendBuilt(() => buildUpdateVoiceState(data));
  }

  /** Op 31 Request Soundboard Sounds. @throws (rejects) CommandError. */
  requestSoundboardSounds(data: GatewayRequestSoundboardSoundsData): Promise<void> {
    return this.sendBuilt(() => buildRequestSoundboardSounds(data));
  }

  /** Op 43 Request Channel Info. @throws (rejects) CommandError. */
  requestChannelInfo(data: GatewayRequestChannelInfoData): Promise<void> {
    return this.sendBuilt(() => buildRequestChannelInfo(data));
  }

  /**
   * Closes the shard at any moment (mid-handshake, while queued for IDENTIFY, while backing
   * off); never throws. With 1000 (or 1001) the session ends and the bot goes offline at
   * once (GW-CL-1) and `null` is returned. The gateway can only end a session it knows on
   * this connection: from Resuming on (the RESUME is sent before that state is entered) it
   * does; closed before (connecting, backing off) it keeps the session until it expires,
   * though the shard drops it all the same. With any other code (3000-4999) the session is
   * kept and returned, so a later shard can resume it. Afterwards no timer, listener or
   * socket of the shard remains; pending commands and connect() reject with ShardClosedError.
   */
  close(code = 1000): Promise<Session | null> {
    return this.driver.close(code);
  }

  /** Safe for logs: never shows the token. */
  toJSON(): ShardInfo {
    return this.info();
  }

  [inspect.custom](): string {
    return `Shard { id: ${this.id}, total: ${this.total}, state: '${this.driver.state}' }`;
  }

  private sendBuilt(build: () => GatewayCommand): Promise<void> {
    let payload: GatewayCommand;
    try {
      payload = build();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.send(payload);
  }
}
