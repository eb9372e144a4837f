import { randomBytes } from 'node:crypto';
import { GatewayCloseCodes, GatewayOpcodes } from 'discord-api-types/v10';
import WebSocket from 'ws';
import { TimerScope, type FakeTimerHandle } from './clock.js';
import {
  createCompressor,
  splitMessage,
  type StreamCompressor,
  type TransportCompression,
} from './compression.js';
import type { GatewayContext } from './context.js';
import type { PayloadEncoder } from './encoding.js';
import { SlidingWindow } from './identify-limits.js';
import { delays, TransitQueue } from './network.js';
import { mixSeed, SeededRandom } from './random.js';
import type { ConnectionRecord, HeartbeatRequestRecord, ListenerKind } from './recording.js';
import type { ProtocolConnection } from './protocol-connection.js';
import type { BufferedDispatch, FakeSession } from './sessions.js';
import type { AckForm, ConnectionScript, GatewayPayload } from './types.js';
import { handleCommand } from './commands.js';
import { handleIdentify, handleResume } from './handshake.js';

/** Client payloads are at most 4096 bytes (GW-ENV-4). */
const MAX_CLIENT_PAYLOAD_BYTES = 4096;
/** Commands that need an identified or resumed connection (GW-ID-2). */
const COMMAND_OPS = new Set<number>([
  GatewayOpcodes.PresenceUpdate,
  GatewayOpcodes.VoiceStateUpdate,
  GatewayOpcodes.RequestGuildMembers,
  GatewayOpcodes.RequestSoundboardSounds,
  GatewayOpcodes.RequestChannelInfo,
]);

/**
 * Malformed or hostile server frames a test can inject (issue 6: bad input from the server):
 * - `'bad-json'`: a message that is not JSON
 * - `'wrong-shape'`: valid JSON that is not a payload (`{"op":"0"}`)
 * - `'unknown-op'`: a payload with an undocumented opcode (GW-ENV-3)
 * - `'dispatch-without-t'`: op 0 with `t` null, sequenced and buffered like any dispatch of
 *   the session (a RESUME replays it as it was sent)
 * - `'dispatch-without-s'`: op 0 without `s`
 * - `'seq-backwards'`: a dispatch whose `s` is below the last one sent
 * - `'binary-garbage'`: random bytes in a binary frame, past any compression
 * - `'corrupt-zlib'`: random bytes ending in `00 00 ff ff`, past the compressor
 * - `'invalid-utf8'`: a JSON message with invalid UTF-8 (text frame, or inside the stream)
 * - `'huge'`: a real, sequenced GUILD_CREATE of at least about `bytes` (default 8 MiB)
 */
export type MalformedKind =
  | 'bad-json'
  | 'wrong-shape'
  | 'unknown-op'
  | 'dispatch-without-t'
  | 'dispatch-without-s'
  | 'seq-backwards'
  | 'binary-garbage'
  | 'corrupt-zlib'
  | 'invalid-utf8'
  | 'huge';

interface Frame {
  data: Buffer | string;
  binary: boolean;
  fin: boolean;
}

interface Slot {
  frames: Frame[] | null;
}

/** What travels from the client to the gateway: a message, or the end of the connection. */
type Inbound =
  | { kind: 'message'; data: Buffer; isBinary: boolean }
  | { kind: 'close'; code: number; reason: string };

/** What travels from the gateway to the client: a frame, or the close frame after them. */
type Outbound = { kind: 'frame'; frame: Frame } | { kind: 'close'; code: number; reason: string };

/** The gateway's context as a connection sees it: the shared one, plus where it reports its close. */
export interface ConnectionContext extends GatewayContext {
  /** Called once a connection is closed, to detach or invalidate its session. */
  connectionClosed(connection: FakeConnection): void;
}

/** What the gateway knows of a connection when it accepts it. */
export interface ConnectionInit {
  id: number;
  listener: ListenerKind;
  path: string;
  query: string;
  version: number | null;
  encoding: string;
  compression: TransportCompression | null;
  encoder: PayloadEncoder | null;
  script: ConnectionScript;
}

/**
 * One client WebSocket as the gateway sees it: receives and validates payloads, heartbeats,
 * the send limit, and sends through its own compression context (GW-GT-9). Tests reach it
 * through `FakeGateway.connectionFor(shardId)` or `FakeGateway.connections` to script it.
 */
export class FakeConnection implements ProtocolConnection {
  readonly id: number;
  readonly listener: ListenerKind;
  readonly record: ConnectionRecord;
  /** The session this connection serves, once IDENTIFY or RESUME was accepted. */
  session: FakeSession | null = null;
  /** True once READY or RESUMED went out (dispatches are then delivered live). */
  live = false;
  /** Clock time of the last client heartbeat, or null. */
  lastHeartbeatAt: number | null = null;

  private readonly timers: TimerScope;
  private readonly sendWindow: SlidingWindow;
  readonly presenceWindow: SlidingWindow;
  private readonly encoder: PayloadEncoder | null;
  private readonly compressor: StreamCompressor | null;
  private readonly script: ConnectionScript;
  private ackForm: AckForm;
  private nextAckWire = true;
  private heartbeatDeadline: FakeTimerHandle | undefined;
  private readonly pendingRequests: { entry: HeartbeatRequestRecord; timer: FakeTimerHandle }[] =
    [];
  private readonly queue: Slot[] = [];
  private pendingBytes = 0;
  private serverClosing = false;
  private dropped = false;
  private closed = false;
  private frozen = false;
  /** Transit of each direction (`FakeGatewayOptions.network`), or null when it adds no delay. */
  private readonly inbound: TransitQueue<Inbound> | null;
  private readonly outbound: TransitQueue<Outbound> | null;
  private outboundBytes = 0;

  constructor(
    private readonly ctx: ConnectionContext,
    private readonly ws: WebSocket,
    init: ConnectionInit,
  ) {
    this.id = init.id;
    this.listener = init.listener;
    this.script = init.script;
    this.encoder = init.encoder;
    this.timers = new TimerScope(ctx.clock);
    const { sendLimit, presenceLimit } = ctx.settings;
    this.sendWindow = new SlidingWindow(ctx.clock, sendLimit.limit, sendLimit.windowMs);
    this.presenceWindow = new SlidingWindow(ctx.clock, presenceLimit.limit, presenceLimit.windowMs);
    this.ackForm = init.script.ackForm ?? ctx.settings.ackForm;
    this.compressor = init.compression === null ? null : createCompressor(init.compression);
    this.record = {
      id: init.id,
      listener: init.listener,
      path: init.path,
      query: init.query,
      version: init.version,
      encoding: init.encoding,
      compression: init.compression,
      openedAt: ctx.clock.now(),
      helloAt: null,
      auth: null,
      shardId: null,
      sessionId: null,
      received: [],
      sent: [],
      receivedCount: 0,
      sentCount: 0,
      heartbeats: 0,
      acks: 0,
      maxPayloadsInWindow: 0,
      closedAt: null,
      closedBy: null,
      clientCloseCode: null,
      serverCloseCode: null,
      closeReason: '',
    };
    const network = ctx.settings.network;
    const random = new SeededRandom(mixSeed(network.seed, init.id));
    this.inbound = delays(network.inbound)
      ? new TransitQueue<Inbound>(ctx.clock, network.inbound, random, (item) =>
          item.kind === 'message'
            ? this.onMessage(item.data, item.isBinary)
            : this.onClose(item.code, item.reason),
        )
      : null;
    this.outbound = delays(network.outbound)
      ? new TransitQueue<Outbound>(ctx.clock, network.outbound, random, (item) => {
          if (item.kind === 'close') return this.ws.close(item.code, item.reason);
          this.outboundBytes -= item.frame.data.length;
          this.emit(item.frame);
        })
      : null;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.inbound === null) this.onMessage(data, isBinary);
      else this.inbound.push({ kind: 'message', data, isBinary });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      // The close arrives after the frames still in transit.
      if (this.inbound === null || this.inbound.length === 0) this.onClose(code, reason.toString());
      else this.inbound.push({ kind: 'close', code, reason: reason.toString() });
    });
    ws.on('error', () => undefined);
  }

  /** Runs the opening script: version and encoding checks, then HELLO, op 7 or nothing. */
  open(): void {
    if (this.record.version !== null && !this.ctx.settings.apiVersions.has(this.record.version)) {
      this.ctx.violation(
        'invalid-api-version',
        this,
        GatewayCloseCodes.InvalidAPIVersion,
        `v=${this.record.version}`,
      );
      return;
    }
    if (this.encoder === null) {
      this.ctx.violation(
        'decode-error',
        this,
        GatewayCloseCodes.DecodeError,
        `unsupported encoding ${this.record.encoding}`,
      );
      return;
    }
    const onConnect = this.script.onConnect ?? 'hello';
    if (onConnect === 'none') return;
    const first = (): void => {
      if (onConnect === 'reconnect')
        this.reconnect({ closeAfterMs: this.script.closeAfterReconnectMs });
      else this.hello();
    };
    const delay = this.script.helloDelayMs ?? 0;
    if (delay > 0) this.timers.set(first, delay);
    else first();
  }

  /** True until the socket closed or the server started closing it. */
  get isOpen(): boolean {
    return !this.closed && !this.serverClosing && !this.dropped;
  }

  /** How the client authenticated here, or null before IDENTIFY/RESUME was accepted. */
  get auth(): 'identify' | 'resume' | null {
    return this.record.auth;
  }

  /** The shard this connection identified or resumed as, or null. */
  get shardId(): number | null {
    return this.session?.shardId ?? null;
  }

  /** Bytes waiting to go out: the socket's buffer, messages being compressed, frames in transit. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount + this.pendingBytes + this.outboundBytes;
  }

  /** True once {@link freeze} was called. */
  get isFrozen(): boolean {
    return this.frozen;
  }

  /** The script this connection runs (READY delay and withholding are read from it). */
  get connectionScript(): ConnectionScript {
    return this.script;
  }

  /** Sends HELLO (op 10) and starts the heartbeat deadline (GW-HB-1). */
  hello(): void {
    const d: Record<string, unknown> = {
      heartbeat_interval: this.ctx.settings.heartbeatIntervalMs,
    };
    if (this.ctx.settings.trace) d._trace = [`["fake-gateway-${this.id}",{"micros":0.0}]`];
    this.send({ op: GatewayOpcodes.Hello, d });
    this.record.helloAt = this.ctx.clock.now();
    this.armHeartbeatDeadline();
  }

  /**
   * Sends a dispatch through the session (sequenced, buffered for RESUME). Without a session
   * it goes out unsequenced (`s: null`). Returns the sequence number or null.
   */
  dispatch(t: string, d: unknown): number | null {
    if (this.session?.active) return this.session.append(t, d).s;
    this.send({ op: GatewayOpcodes.Dispatch, t, s: null, d });
    return null;
  }

  /** Sends op 7 RECONNECT (GW-RC-1); optionally closes with 4000 after `closeAfterMs`. */
  reconnect({ closeAfterMs }: { closeAfterMs?: number } = {}): void {
    this.send({ op: GatewayOpcodes.Reconnect, d: null });
    if (closeAfterMs !== undefined) {
      this.timers.set(() => this.close(GatewayCloseCodes.UnknownError, 'reconnect'), closeAfterMs);
    }
  }

  /**
   * Sends op 9 (GW-IS-1). `resumable: false` ends the session; `true` keeps it for a RESUME.
   * Either way the connection may IDENTIFY or RESUME again on the same socket (GW-IS-3).
   */
  invalidateSession(resumable: boolean): void {
    this.send({ op: GatewayOpcodes.InvalidSession, d: resumable });
    const session = this.session;
    if (session === null) return;
    this.detach();
    if (!resumable) this.ctx.sessions.invalidate(session);
  }

  /**
   * Sends op 1 and records whether the client answers with op 1 within `deadlineMs`
   * (default `heartbeatRequestDeadlineMs`, GW-HB-5).
   */
  requestHeartbeat({
    deadlineMs = this.ctx.settings.heartbeatRequestDeadlineMs,
  }: { deadlineMs?: number } = {}): HeartbeatRequestRecord {
    const entry: HeartbeatRequestRecord = {
      connectionId: this.id,
      sentAt: this.ctx.clock.now(),
      deadlineMs,
      answeredAt: null,
      inTime: null,
    };
    this.send({ op: GatewayOpcodes.Heartbeat, d: null });
    const timer = this.timers.set(() => {
      const index = this.pendingRequests.findIndex((p) => p.entry === entry);
      if (index !== -1) this.pendingRequests.splice(index, 1);
      entry.inTime = false;
      this.ctx.violation(
        'heartbeat-request-unanswered',
        this,
        null,
        `no op 1 within ${deadlineMs} ms`,
      );
    }, deadlineMs);
    this.pendingRequests.push({ entry, timer });
    this.ctx.record.add('heartbeatRequests', entry);
    return entry;
  }

  /** Stops answering heartbeats, so the client sees a zombied connection (GW-HB-4). */
  stopAcking(): void {
    this.ackForm = 'none';
  }

  /** Answers heartbeats again, in `form` (default `'alternate'`). */
  startAcking(form: Exclude<AckForm, 'none'> = 'alternate'): void {
    this.ackForm = form;
  }

  /**
   * A true zombie (GW-HB-4, GW-GT-7): from now on the connection sends nothing (no frame, no
   * ACK, no answer to a server op 1 deadline), reads nothing and never answers the client's
   * close frame; only its TCP connection stays up, until the client drops it or the gateway
   * stops. Frames already in transit are lost.
   */
  freeze(): void {
    if (this.frozen || !this.isOpen) return;
    this.frozen = true;
    this.live = false;
    this.timers.clearAll();
    this.inbound?.clear();
    this.outbound?.clear();
    this.outboundBytes = 0;
    this.queue.length = 0;
    // Unread bytes stay in the kernel, so the client's close frame is never seen or answered.
    this.ws.pause();
  }

  /** Closes with a close frame carrying `code` (any code, 1000-4999), after the frames in transit. */
  close(code: number, reason = ''): void {
    if (!this.isOpen) return;
    this.serverClosing = true;
    this.record.serverCloseCode = code;
    this.record.closeReason = reason;
    this.live = false;
    // A frozen connection cannot send a close frame: it can only be dropped.
    if (this.frozen) this.ws.terminate();
    else if (this.outbound !== null && this.outbound.length > 0)
      this.outbound.push({ kind: 'close', code, reason });
    else this.ws.close(code, reason);
  }

  /** Drops the TCP connection with no close frame (the client sees 1006, GW-CL-3). */
  terminate(): void {
    if (this.closed) return;
    this.dropped = true;
    this.live = false;
    this.outbound?.clear();
    this.ws.terminate();
  }

  /** Encodes and sends one unsequenced payload in the wire form `{t, s, op, d}`. */
  send(payload: GatewayPayload): void {
    if (!this.isOpen || this.frozen || this.encoder === null) return;
    const wire = {
      t: payload.t ?? null,
      s: payload.s ?? null,
      op: payload.op,
      d: payload.d ?? null,
    };
    this.noteSent(wire);
    this.transmit(this.encoder.encode(wire), true);
  }

  /** Sends `data` as it is: through the compressor unless `compress: false`; text unless `binary`. */
  sendRaw(
    data: string | Buffer,
    { compress = true, binary }: { compress?: boolean; binary?: boolean } = {},
  ): void {
    if (!this.isOpen || this.frozen) return;
    this.noteSent({
      op: -1,
      t: null,
      s: null,
      d: typeof data === 'string' ? data : `<${data.length} bytes>`,
    });
    this.transmit(data, compress, binary);
  }

  /** Injects a malformed frame; see {@link MalformedKind}. Returns the sequence used by `'huge'`, else null. */
  sendMalformed(
    kind: MalformedKind,
    { bytes = 8 * 1024 * 1024 }: { bytes?: number } = {},
  ): number | null {
    const seq = this.session?.seq ?? 0;
    switch (kind) {
      case 'bad-json':
        this.sendRaw('{"t":"MESSAGE_CREATE","s":');
        return null;
      case 'wrong-shape':
        this.sendRaw('{"op":"0","d":[]}');
        return null;
      case 'unknown-op':
        this.send({ op: 99, d: { fake: true } });
        return null;
      case 'dispatch-without-t':
        if (this.session === null) this.sendRaw(JSON.stringify({ s: seq + 1, op: 0, d: {} }));
        else this.session.append(null, {});
        return null;
      case 'dispatch-without-s':
        this.sendRaw(JSON.stringify({ t: 'TYPING_START', op: 0, d: {} }));
        return null;
      case 'seq-backwards':
        this.sendRaw(JSON.stringify({ t: 'TYPING_START', s: Math.max(0, seq - 5), op: 0, d: {} }));
        return null;
      case 'binary-garbage':
        this.sendRaw(randomBytes(64), { compress: false, binary: true });
        return null;
      case 'corrupt-zlib':
        this.sendRaw(Buffer.concat([randomBytes(60), Buffer.from([0, 0, 0xff, 0xff])]), {
          compress: false,
          binary: true,
        });
        return null;
      case 'invalid-utf8':
        this.sendRaw(
          Buffer.concat([
            Buffer.from('{"t":"MESSAGE_CREATE","s":null,"op":0,"d":{"content":"'),
            Buffer.from([0xff, 0xfe, 0xc3]),
            Buffer.from('"}}'),
          ]),
          { binary: false },
        );
        return null;
      case 'huge': {
        const guild = this.session
          ? (this.ctx.traffic.guildsForShard(this.session.shardId, this.session.shardCount)[0] ??
            this.ctx.traffic.guilds[0])
          : this.ctx.traffic.guilds[0];
        const d = this.ctx.traffic.guildCreate(guild, {
          members: Math.ceil(bytes / 290),
          presences: false,
        });
        return this.dispatch('GUILD_CREATE', d);
      }
    }
  }

  /** @internal SessionLink: one sequenced dispatch, live or replayed. */
  deliver(entry: BufferedDispatch): void {
    this.send({ op: GatewayOpcodes.Dispatch, t: entry.t, s: entry.s, d: entry.d });
  }

  /** @internal binds the accepted session to this connection. */
  attach(session: FakeSession, auth: 'identify' | 'resume'): void {
    this.session = session;
    session.link = this;
    session.detachedAt = null;
    this.record.auth = auth;
    this.record.shardId = session.shardId;
    this.record.sessionId = session.id;
  }

  /** @internal unbinds the session (it stays resumable unless invalidated by the caller). */
  detach(): void {
    const session = this.session;
    this.session = null;
    this.live = false;
    this.record.auth = null;
    if (session !== null && session.link === this) {
      session.link = null;
      session.detachedAt = this.ctx.clock.now();
    }
  }

  /** @internal schedules work that must die with this connection. */
  schedule(callback: () => void, delayMs: number): void {
    if (delayMs <= 0) callback();
    else this.timers.set(callback, delayMs);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (!this.isOpen || this.frozen) return;
    const withinLimit = this.sendWindow.hit();
    this.record.maxPayloadsInWindow = this.sendWindow.peak;
    if (!withinLimit) {
      const { limit, windowMs } = this.ctx.settings.sendLimit;
      this.ctx.violation(
        'send-limit',
        this,
        GatewayCloseCodes.RateLimited,
        `more than ${limit} payloads in ${windowMs} ms`,
      );
      return;
    }
    if (data.length > MAX_CLIENT_PAYLOAD_BYTES) {
      this.ctx.violation(
        'payload-too-large',
        this,
        GatewayCloseCodes.DecodeError,
        `${data.length} bytes > 4096`,
      );
      return;
    }
    let payload: unknown;
    try {
      payload = this.encoder!.decode(data, isBinary);
    } catch (error) {
      this.ctx.violation(
        'decode-error',
        this,
        GatewayCloseCodes.DecodeError,
        (error as Error).message,
      );
      return;
    }
    if (
      typeof payload !== 'object' ||
      payload === null ||
      !Number.isInteger((payload as GatewayPayload).op)
    ) {
      this.ctx.violation(
        'decode-error',
        this,
        GatewayCloseCodes.DecodeError,
        'not a payload object with an integer op',
      );
      return;
    }
    const { op, d } = payload as GatewayPayload;
    this.record.receivedCount++;
    this.ctx.record.addPayload(this.record.received, {
      op,
      d: redactToken(op, d),
      at: this.ctx.clock.now(),
      bytes: data.length,
    });
    if (op === GatewayOpcodes.Heartbeat) this.onHeartbeat();
    else if (op === GatewayOpcodes.Identify || op === GatewayOpcodes.Resume) {
      if (this.record.auth !== null) {
        this.ctx.violation(
          'already-authenticated',
          this,
          GatewayCloseCodes.AlreadyAuthenticated,
          `op ${op} after ${this.record.auth}`,
        );
      } else if (op === GatewayOpcodes.Identify) handleIdentify(this.ctx, this, d);
      else handleResume(this.ctx, this, d);
    } else if (COMMAND_OPS.has(op)) {
      if (this.record.auth === null) {
        this.ctx.violation(
          'not-authenticated',
          this,
          GatewayCloseCodes.NotAuthenticated,
          `op ${op} before IDENTIFY/RESUME`,
        );
      } else handleCommand(this.ctx, this, op, d);
    } else {
      this.ctx.violation('unknown-opcode', this, GatewayCloseCodes.UnknownOpcode, `op ${op}`);
    }
    this.ctx.record.touch();
  }

  private onHeartbeat(): void {
    const now = this.ctx.clock.now();
    this.lastHeartbeatAt = now;
    this.record.heartbeats++;
    if (this.record.helloAt !== null) this.armHeartbeatDeadline();
    for (const pending of this.pendingRequests.splice(0)) {
      this.timers.clear(pending.timer);
      pending.entry.answeredAt = now;
      pending.entry.inTime = now - pending.entry.sentAt <= pending.entry.deadlineMs;
    }
    if (this.ackForm === 'none') return;
    const wire = this.ackForm === 'wire' || (this.ackForm === 'alternate' && this.nextAckWire);
    this.nextAckWire = !this.nextAckWire;
    this.record.acks++;
    if (wire) this.send({ op: GatewayOpcodes.HeartbeatAck, d: null });
    else {
      this.noteSent({ op: GatewayOpcodes.HeartbeatAck, t: null, s: null, d: undefined });
      this.transmit(this.encoder!.encode({ op: GatewayOpcodes.HeartbeatAck }), true);
    }
  }

  /** A client silent for interval + grace is closed with 4009 (GW-HB-7). */
  private armHeartbeatDeadline(): void {
    this.timers.clear(this.heartbeatDeadline);
    const { heartbeatIntervalMs, heartbeatGraceMs } = this.ctx.settings;
    this.heartbeatDeadline = this.timers.set(() => {
      this.ctx.violation(
        'session-timeout',
        this,
        GatewayCloseCodes.SessionTimedOut,
        `no heartbeat for ${heartbeatIntervalMs + heartbeatGraceMs} ms`,
      );
    }, heartbeatIntervalMs + heartbeatGraceMs);
  }

  private noteSent(wire: { op: number; t: string | null; s: number | null; d: unknown }): void {
    this.record.sentCount++;
    this.ctx.record.addPayload(this.record.sent, { ...wire, at: this.ctx.clock.now() });
  }

  private transmit(data: string | Buffer, compress: boolean, binary?: boolean): void {
    if (this.compressor !== null && compress) {
      const input = typeof data === 'string' ? Buffer.from(data) : data;
      const slot: Slot = { frames: null };
      this.queue.push(slot);
      this.pendingBytes += input.length;
      this.compressor.compress(input, (error, output) => {
        this.pendingBytes -= input.length;
        slot.frames = error !== null ? [] : this.compressedFrames(output);
        this.drain();
      });
      return;
    }
    const frame: Frame = { data, binary: binary ?? typeof data !== 'string', fin: true };
    if (this.queue.length === 0) this.write(frame);
    else this.queue.push({ frames: [frame] });
  }

  private compressedFrames(output: Buffer): Frame[] {
    const parts = this.script.splitParts ?? 1;
    if (parts <= 1) return [{ data: output, binary: true, fin: true }];
    const pieces = splitMessage(output, parts);
    const fragments = this.script.splitAs === 'fragments';
    return pieces.map((data, i) => ({
      data,
      binary: true,
      fin: !fragments || i === pieces.length - 1,
    }));
  }

  private drain(): void {
    while (this.queue.length > 0 && this.queue[0].frames !== null) {
      for (const frame of this.queue.shift()!.frames!) this.write(frame);
    }
  }

  private write(frame: Frame): void {
    if (this.frozen) return;
    if (this.outbound === null) return this.emit(frame);
    this.outboundBytes += frame.data.length;
    this.outbound.push({ kind: 'frame', frame });
  }

  /** Hands a frame to the socket, at the end of its transit. */
  private emit(frame: Frame): void {
    if (this.ws.readyState !== WebSocket.OPEN || this.dropped || this.frozen) return;
    this.ws.send(frame.data, { binary: frame.binary, fin: frame.fin });
  }

  private onClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.live = false;
    this.timers.clearAll();
    this.inbound?.clear();
    this.outbound?.clear();
    this.compressor?.close();
    this.queue.length = 0;
    const record = this.record;
    record.closedAt = this.ctx.clock.now();
    if (this.dropped) record.closedBy = 'network';
    else if (this.serverClosing) record.closedBy = 'server';
    else {
      record.closedBy = code === 1006 ? 'network' : 'client';
      record.clientCloseCode = code;
      record.closeReason = reason;
    }
    this.ctx.connectionClosed(this);
    this.ctx.record.touch();
  }
}

/** IDENTIFY and RESUME carry the token; the record keeps `'[token]'` instead. */
function redactToken(op: number, d: unknown): unknown {
  if (
    (op === GatewayOpcodes.Identify || op === GatewayOpcodes.Resume) &&
    typeof d === 'object' &&
    d !== null &&
    'token' in d
  ) {
    return { ...d, token: '[token]' };
  }
  return d;
}
