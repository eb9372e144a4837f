import { GatewayOpcodes } from 'discord-api-types/v10';
import {
  createInflater,
  decodeJson,
  dispatchTypeHint,
  peekHeader,
  type PayloadEncoding,
} from '../codec/index.js';
import { describeError, DecodeError, GatewayError, ProtocolError } from '../errors/errors.js';
import { EventType } from '../events/event-type.js';
import { printable } from '../logger.js';
import type { Connection } from './connection.js';
import type { EventDelivery } from './delivery.js';
import { DISPATCH_NAMES, type DispatchFilter } from './dispatch-filter.js';
import type { GuildReadiness } from './guild-readiness.js';
import type { Handshake } from './handshake.js';
import { PayloadRecorder } from './recorder.js';
import type { ShardContext, ShardLink } from './shard-context.js';
import type { ShardObserver } from './shard-observer.js';
import type { ShardCounters } from './stats.js';

/**
 * The largest step of the sequence between two dispatches of a session (GW-GT-5). It grows by
 * one per dispatch, and a connection delivers them in order, so a jump beyond this can only be
 * a bad value; a wide margin keeps any real gap clear of it.
 */
export const MAX_SEQUENCE_JUMP = 1_000;

/**
 * A shard's receive path, one WebSocket message at a time: inflate (transport compression),
 * peek the header of a dispatch the filter does not want (skipped undecoded, its sequence
 * still tracked), decode, check the sequence (GW-GT-5: a dispatch whose `s` is not above the
 * last one of the session is dropped), then hand the payload to the handshake (HELLO, READY,
 * RESUMED, op 7, op 9), the heartbeat (op 1, op 11) or the listeners.
 *
 * Bad frames (issue 6): a frame that cannot be decoded (bad JSON or UTF-8, corrupt or
 * over-cap compressed data, a binary frame without compression) is reported and the
 * connection replaced with a RESUME: the frame may have been a dispatch, which the gateway
 * then replays, and a broken inflate context never sees another frame. A decodable payload
 * that breaks the protocol (wrong shape, unknown op, dispatch without `t`, `s` going
 * backwards) is reported and ignored. A dispatch without `s` leaves the sequence alone and is
 * still delivered; unless it is RATE_LIMITED, which may lack `s` (docs/protocol.md section 20), it
 * is also reported as a ProtocolError.
 */
export class ReceivePath {
  /** Every payload received, as decoded, when `recordTo` is set. */
  private recorder: PayloadRecorder | null = null;
  /** Metrics hooks (`Cluster.observe`); `null`, the usual case, costs one check per message. */
  observer: ShardObserver | null = null;

  // Copied from the context: one load fewer per use on the per-message path.
  private readonly etf: PayloadEncoding | null;
  private readonly delivery: EventDelivery;
  private readonly counters: ShardCounters;
  private readonly link: ShardLink;

  constructor(
    private readonly ctx: ShardContext,
    private readonly filter: DispatchFilter,
    private readonly handshake: Handshake,
    private readonly guilds: GuildReadiness,
  ) {
    this.etf = ctx.etf;
    this.delivery = ctx.delivery;
    this.counters = ctx.counters;
    this.link = ctx.link;
  }

  /**
   * Opens `recordTo` (when set and not open yet). A file that cannot be opened is logged; so is
   * the first write that fails, which stops the recording (the shard goes on).
   */
  startRecording(): void {
    const recordTo = this.ctx.config.recordTo;
    if (recordTo === null || this.recorder !== null) return;
    try {
      this.recorder = new PayloadRecorder(recordTo, (error) => {
        this.recorder = null;
        this.ctx.logger.error(
          `${this.ctx.prefix} writing the recordTo file failed; recording stopped, the shard goes on`,
          error,
        );
      });
    } catch (error) {
      this.ctx.logger.error(
        `${this.ctx.prefix} cannot open the recordTo file; not recording`,
        error,
      );
    }
  }

  stopRecording(): void {
    this.recorder?.close();
    this.recorder = null;
  }

  /**
   * The socket of `conn` opened: its inflate context, when transport compression is on.
   * Returns false (logged) when it cannot be created.
   */
  openInflater(conn: Connection): boolean {
    const { config, logger, prefix } = this.ctx;
    if (config.compression === 'none') return true;
    try {
      conn.inflater = createInflater(config.compression, {
        maxInflatedBytes: config.limits.maxInflatedBytes,
      });
      logger.debug(`${prefix} inflating with ${conn.inflater.implementation}`);
      return true;
    } catch (error) {
      logger.error(`${prefix} cannot create the ${config.compression} inflater`, error);
      return false;
    }
  }

  /** An error of the socket of `conn`: ws rejected a frame, or the network failed. */
  onSocketError(conn: Connection, error: Error): void {
    if (conn.ended) return;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('WS_ERR_')) {
      // ws rejected a frame (over maxPayload, invalid UTF-8 in a text frame, ...) and is closing.
      this.delivery.reportBadFrame(new DecodeError(`WebSocket frame rejected: ${error.message}`));
    } else {
      if (!conn.opened) conn.connectError = error.message;
      this.ctx.logger.warn(`${this.ctx.prefix} WebSocket error: ${error.message}`);
    }
  }

  /** One WebSocket message of `conn`. */
  onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    if (conn.ended) return;
    this.counters.framesReceived++;
    const observer = this.observer;
    if (observer !== null) observer.frameReceived(data.length);
    if (conn.heartbeat !== null) conn.heartbeat.frameSinceBeat = true;
    let message: Buffer = data;
    if (isBinary && (conn.inflater !== null || this.etf === null)) {
      if (conn.inflater === null) {
        this.link.badFrame(
          conn,
          new DecodeError(`Binary frame (${data.length} bytes) but no compression was negotiated`),
        );
        return;
      }
      let inflated: Buffer | null;
      try {
        inflated = conn.inflater.push(data);
      } catch (error) {
        this.link.badFrame(conn, asDecodeError(error));
        return;
      }
      if (inflated === null) return;
      message = inflated;
    }
    this.counters.payloadsReceived++;
    if (observer !== null) observer.payloadReceived(message.length);
    if (this.etf !== null) {
      this.onEtfMessage(conn, message);
      return;
    }

    if (!this.filter.decodeAll) {
      // A dispatch whose leading `t` is wanted is decoded anyway: no need to walk its `d` first.
      const hint = dispatchTypeHint(message);
      const header = hint !== null && this.mustDecode(hint) ? null : peekHeader(message);
      if (
        header !== null &&
        header.op === GatewayOpcodes.Dispatch &&
        header.t !== null &&
        header.s !== null &&
        !this.mustDecode(header.t)
      ) {
        this.recorder?.write(message);
        this.skipDispatch(conn, header.s, header.t);
        return;
      }
    }

    let payload: unknown;
    try {
      payload = decodeJson(message);
    } catch (error) {
      this.link.badFrame(conn, asDecodeError(error));
      return;
    }
    this.recorder?.write(message);
    this.onPayload(conn, payload);
  }

  /** ETF has no cheap header peek: every message is decoded, the filter applies at delivery. */
  private onEtfMessage(conn: Connection, message: Buffer): void {
    let payload: unknown;
    try {
      payload = this.etf!.decode(message);
    } catch (error) {
      this.link.badFrame(conn, asDecodeError(error));
      return;
    }
    this.recorder?.writeValue(payload);
    this.onPayload(conn, payload);
  }

  private mustDecode(t: string): boolean {
    return (
      this.filter.wanted.has(t) ||
      t === 'READY' ||
      t === 'RESUMED' ||
      (this.guilds.pending !== null && (t === 'GUILD_CREATE' || t === 'GUILD_DELETE')) ||
      (this.filter.wantUnknown && !DISPATCH_NAMES.has(t))
    );
  }

  private skipDispatch(conn: Connection, s: number, t: string): void {
    if (!this.advanceSequence(conn, s)) return;
    if (conn.resuming && !conn.active) conn.replayed++;
    this.counters.dispatchesSkipped++;
    if (this.observer !== null) this.observer.dispatchReceived(t, false);
  }

  /**
   * Records `s` of a dispatch (GW-GT-5). Returns false for a dispatch already seen in this
   * session (`s` not above the last one): it is dropped, so nothing is delivered twice. Returns
   * false too for an impossible jump ahead (more than {@link MAX_SEQUENCE_JUMP}): taken, it
   * would make every later dispatch of the session look already seen. The connection is
   * replaced with a RESUME from the last good sequence instead, so the gateway resends what
   * follows it.
   */
  private advanceSequence(conn: Connection, s: number): boolean {
    const handshake = this.handshake;
    const last = handshake.sequence;
    if (s > (last ?? 0) + MAX_SEQUENCE_JUMP) {
      this.link.badFrame(
        conn,
        new ProtocolError(
          `Dispatch with sequence ${s} after ${last ?? 'none'}: an impossible jump; resuming from ${last ?? 'none'}`,
        ),
      );
      return false;
    }
    if (last !== null && s <= last) {
      this.counters.duplicatesDropped++;
      this.delivery.reportBadFrame(
        new ProtocolError(
          `Dispatch with sequence ${s} after ${handshake.sequence} in the same session; dropped (never delivered twice)`,
        ),
      );
      return false;
    }
    handshake.sequence = s;
    return true;
  }

  private onPayload(conn: Connection, payload: unknown): void {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      this.delivery.reportBadFrame(
        new ProtocolError('Gateway payload is not a JSON object; ignored'),
      );
      return;
    }
    const { op, d, s, t } = payload as { op?: unknown; d?: unknown; s?: unknown; t?: unknown };
    if (typeof op !== 'number' || !Number.isInteger(op)) {
      this.delivery.reportBadFrame(new ProtocolError('Gateway payload has no integer op; ignored'));
      return;
    }
    switch (op) {
      case GatewayOpcodes.Dispatch:
        this.onDispatch(conn, t, s, d);
        return;
      case GatewayOpcodes.Heartbeat:
        this.ctx.logger.debug(`${this.ctx.prefix} <- op 1 HEARTBEAT request`);
        conn.heartbeat?.requested();
        return;
      case GatewayOpcodes.HeartbeatAck:
        conn.heartbeat?.ack();
        return;
      case GatewayOpcodes.Hello:
        this.handshake.onHello(conn, d);
        return;
      case GatewayOpcodes.Reconnect:
        this.handshake.onReconnect(conn);
        return;
      case GatewayOpcodes.InvalidSession:
        this.handshake.onInvalidSession(conn, d === true);
        return;
      default:
        this.delivery.reportBadFrame(new ProtocolError(`Unknown opcode ${op}; ignored`));
        if (this.filter.wantUnknown) {
          this.delivery.deliver(
            EventType.UnknownEvent,
            { op, t: asString(t), s: asInteger(s), d },
            null,
          );
        }
    }
  }

  private onDispatch(conn: Connection, t: unknown, s: unknown, d: unknown): void {
    if (s !== null && s !== undefined && !isSequence(s)) {
      this.delivery.reportBadFrame(new ProtocolError('Dispatch with a non-integer s; ignored'));
      return;
    }
    const sequence = (s as number | null | undefined) ?? null;
    if (t === 'READY' && !this.handshake.awaitsReady(conn)) {
      // Before the sequence moves: the READY of the IDENTIFY still to come starts at 1.
      this.delivery.reportBadFrame(
        new ProtocolError('READY on a connection that sent no IDENTIFY; ignored'),
      );
      return;
    }
    if (sequence !== null && !this.advanceSequence(conn, sequence)) return;
    // A replayed dispatch (GW-RS-3), named or not: between RESUME and RESUMED, RESUMED itself not.
    if (conn.resuming && !conn.active && sequence !== null && t !== 'RESUMED') conn.replayed++;
    if (typeof t !== 'string') {
      this.delivery.reportBadFrame(
        new ProtocolError('Dispatch without t; its sequence is kept, the event dropped'),
      );
      return;
    }
    if (sequence === null && t !== 'RATE_LIMITED') {
      this.delivery.reportBadFrame(
        new ProtocolError(
          `Dispatch ${printable(t, 64)} without s; delivered unsequenced, the sequence left alone`,
        ),
      );
    }
    this.counters.dispatchesDecoded++;
    if (this.observer !== null) this.observer.dispatchReceived(t, true);
    if (t === 'READY') {
      this.handshake.onReady(conn, d, sequence);
      return;
    }
    if (t === 'RESUMED') {
      this.handshake.onResumed(conn, d, sequence);
      return;
    }
    const filter = this.filter;
    if (filter.wanted.has(t)) {
      this.delivery.deliver(t as EventType, d, sequence);
    } else if (filter.wantUnknown && !DISPATCH_NAMES.has(t)) {
      this.delivery.deliver(EventType.UnknownEvent, { op: 0, t, s: sequence, d }, sequence);
    }
    if (this.guilds.pending !== null && (t === 'GUILD_CREATE' || t === 'GUILD_DELETE')) {
      this.guilds.arrived(d);
    }
  }
}

function asDecodeError(error: unknown): GatewayError {
  return error instanceof GatewayError
    ? error
    : new DecodeError(describeError(error), { cause: error });
}

function isSequence(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function asInteger(value: unknown): number | null {
  return isSequence(value) ? value : null;
}

function asString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
