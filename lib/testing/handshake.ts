import { GatewayCloseCodes, GatewayIntentBits, GatewayOpcodes } from 'discord-api-types/v10';
import type { GatewayContext } from './context.js';
import type { ProtocolConnection } from './protocol-connection.js';
import { KNOWN_INTENTS, PRIVILEGED_INTENTS } from './intents.js';
import type { IdentifyRecord, ResumeRecord } from './recording.js';
import { FakeSession, tokenHash } from './sessions.js';
import type { WorldGuild } from './traffic.js';

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The raw token; the gateway also takes it with one `Bot ` prefix (GW-GT-20, discord-api-docs#119). */
const rawToken = (token: string): string => (token.startsWith('Bot ') ? token.slice(4) : token);

/** Close codes after which a session cannot be resumed (GW-GT-3). */
export const SESSION_ENDING_CLOSE_CODES: ReadonlySet<number> = new Set([
  GatewayCloseCodes.AuthenticationFailed,
  GatewayCloseCodes.InvalidSeq,
  GatewayCloseCodes.SessionTimedOut,
  GatewayCloseCodes.InvalidShard,
  GatewayCloseCodes.ShardingRequired,
  GatewayCloseCodes.InvalidAPIVersion,
  GatewayCloseCodes.InvalidIntents,
  GatewayCloseCodes.DisallowedIntents,
]);

function intentNames(mask: number): string[] {
  return Object.entries(GatewayIntentBits)
    .filter(
      ([name, bit]) => typeof bit === 'number' && (mask & bit) !== 0 && Number.isNaN(Number(name)),
    )
    .map(([name]) => name);
}

/**
 * IDENTIFY (op 2, docs/protocol.md section 6): validates it in the order token (4004), payload shape
 * (4001), shard (4010), intents (4013, 4014), guilds per shard (4011), then the identify limits
 * (op 9 d=false on a busy bucket, GW-RL-2; 4004 once the daily budget is gone, GW-ID-5).
 * An accepted IDENTIFY starts a session and sends READY, then its guilds (GW-RD-1).
 */
export function handleIdentify(
  ctx: GatewayContext,
  connection: ProtocolConnection,
  d: unknown,
): void {
  const { settings } = ctx;
  const entry: IdentifyRecord = {
    connectionId: connection.id,
    shardId: -1,
    shardCount: -1,
    bucket: -1,
    intents: -1,
    at: ctx.clock.now(),
    outcome: 'rejected',
    closeCode: null,
    sessionId: null,
  };
  const reject = (
    kind: Parameters<GatewayContext['violation']>[0],
    code: number,
    detail: string,
  ): void => {
    entry.closeCode = code;
    ctx.record.add('identifies', entry);
    ctx.violation(kind, connection, code, detail);
  };
  if (!isObject(d))
    return reject(
      'invalid-payload',
      GatewayCloseCodes.UnknownOpcode,
      'IDENTIFY d is not an object',
    );
  if (typeof d.token !== 'string' || !settings.tokens.has(rawToken(d.token))) {
    return reject('authentication-failed', GatewayCloseCodes.AuthenticationFailed, 'invalid token');
  }
  const token = rawToken(d.token);
  if (!isObject(d.properties))
    return reject(
      'invalid-payload',
      GatewayCloseCodes.UnknownOpcode,
      'IDENTIFY properties missing',
    );
  if (
    d.large_threshold !== undefined &&
    (!Number.isInteger(d.large_threshold) ||
      (d.large_threshold as number) < 50 ||
      (d.large_threshold as number) > 250)
  ) {
    return reject(
      'invalid-payload',
      GatewayCloseCodes.UnknownOpcode,
      'large_threshold outside 50..250',
    );
  }
  const shard = d.shard ?? [0, 1];
  if (
    !Array.isArray(shard) ||
    shard.length !== 2 ||
    !Number.isInteger(shard[0]) ||
    !Number.isInteger(shard[1]) ||
    shard[1] < 1 ||
    shard[0] < 0 ||
    shard[0] >= shard[1] ||
    shard[1] % settings.shardCountMultiple !== 0
  ) {
    return reject(
      'invalid-shard',
      GatewayCloseCodes.InvalidShard,
      `invalid shard ${JSON.stringify(shard)}`,
    );
  }
  const [shardId, shardCount] = shard as [number, number];
  entry.shardId = shardId;
  entry.shardCount = shardCount;
  entry.bucket = ctx.limits.bucketOf(shardId);
  const intents = d.intents;
  if (
    !Number.isInteger(intents) ||
    (intents as number) < 0 ||
    ((intents as number) & ~KNOWN_INTENTS) !== 0
  ) {
    return reject(
      'invalid-intents',
      GatewayCloseCodes.InvalidIntents,
      `invalid intents ${String(intents)}`,
    );
  }
  entry.intents = intents as number;
  const denied = (intents as number) & PRIVILEGED_INTENTS & ~settings.grantedIntents;
  if (denied !== 0) {
    return reject(
      'disallowed-intents',
      GatewayCloseCodes.DisallowedIntents,
      `not granted: ${intentNames(denied).join(', ')}`,
    );
  }
  const owned = ctx.traffic.guildsForShard(shardId, shardCount);
  if (owned.length > settings.maxGuildsPerShard) {
    return reject(
      'sharding-required',
      GatewayCloseCodes.ShardingRequired,
      `${owned.length} guilds on shard ${shardId}/${shardCount} > ${settings.maxGuildsPerShard}`,
    );
  }
  const verdict = ctx.limits.take(shardId);
  if (verdict === 'identify-bucket') {
    entry.outcome = 'rate-limited';
    ctx.record.add('identifies', entry);
    ctx.violation(
      'identify-bucket',
      connection,
      null,
      `bucket ${entry.bucket} identified less than ${ctx.limits.windowMs} ms ago`,
    );
    connection.send({ op: GatewayOpcodes.InvalidSession, d: false });
    return;
  }
  if (verdict === 'session-budget') {
    entry.outcome = 'budget-exhausted';
    entry.closeCode = GatewayCloseCodes.AuthenticationFailed;
    ctx.record.add('identifies', entry);
    ctx.violation(
      'session-budget',
      connection,
      GatewayCloseCodes.AuthenticationFailed,
      'session start limit exhausted',
    );
    return;
  }
  const session = new FakeSession(
    shardId,
    shardCount,
    intents as number,
    tokenHash(token),
    settings.replayBufferSize,
  );
  ctx.sessions.add(session);
  connection.attach(session, 'identify');
  entry.outcome = 'accepted';
  entry.sessionId = session.id;
  ctx.record.add('identifies', entry);
  const echoShard = d.shard !== undefined;
  afterHandshake(connection, () => {
    startSession(ctx, connection, session, echoShard);
    if (connection.session === session) misbehaveAfterHandshake(connection);
  });
}

/** Runs `send` after the connection's READY delay, or never when READY is withheld. */
function afterHandshake(connection: ProtocolConnection, send: () => void): void {
  const script = connection.connectionScript;
  if (script.withholdReady) return;
  connection.schedule(send, script.readyDelayMs ?? 0);
}

/** READY (s=1), then one GUILD_CREATE per owned guild, or its unavailable form (GW-RD-1). */
function startSession(
  ctx: GatewayContext,
  connection: ProtocolConnection,
  session: FakeSession,
  echoShard: boolean,
): void {
  if (connection.session !== session) return;
  const { traffic, settings } = ctx;
  const owned = traffic.guildsForShard(session.shardId, session.shardCount);
  const ready: Fields = {
    v: 10,
    user: { ...traffic.botUser, verified: true, flags: 0, mfa_enabled: false },
    guilds: owned.map((g) => ({ id: g.id, unavailable: true })),
    session_id: session.id,
    resume_gateway_url: ctx.resumeUrl,
    application: { id: traffic.applicationId, flags: 0 },
    session_type: 'normal',
  };
  if (echoShard) ready.shard = [session.shardId, session.shardCount];
  if (settings.trace) ready._trace = [`["fake-gateway-session",{"micros":0.0}]`];
  session.started = true;
  connection.live = true;
  session.append('READY', ready);
  if ((session.intents & GatewayIntentBits.Guilds) === 0) return;
  const announce = (guild: WorldGuild): void => {
    if (!settings.unavailableGuildIds.has(guild.id))
      session.append('GUILD_CREATE', traffic.guildCreate(guild));
    else if (settings.unavailableAs === 'GUILD_DELETE')
      session.append('GUILD_DELETE', { id: guild.id, unavailable: true });
    else session.append('GUILD_CREATE', { id: guild.id, unavailable: true });
  };
  const spacing = connection.connectionScript.guildCreateIntervalMs ?? 0;
  if (spacing <= 0) {
    for (const guild of owned) announce(guild);
    return;
  }
  owned.forEach((guild, i) =>
    connection.schedule(
      () => {
        if (connection.session === session) announce(guild);
      },
      (i + 1) * spacing,
    ),
  );
}

/** The connection script's `afterHandshake` fault, if any. */
function misbehaveAfterHandshake(connection: ProtocolConnection): void {
  switch (connection.connectionScript.afterHandshake) {
    case 'close':
      connection.close(GatewayCloseCodes.UnknownError, 'scripted close after the handshake');
      return;
    case 'reconnect':
      connection.send({ op: GatewayOpcodes.Reconnect, d: null });
      return;
    case 'drop':
      connection.terminate();
      return;
    case 'bad-frame':
      connection.sendRaw('{"op":0,"t":"MESSAGE_CREATE",');
      return;
  }
}

/**
 * RESUME (op 6, docs/protocol.md section 8): an unknown, expired or foreign session gets op 9
 * d=false (GW-RS-4); a `seq` ahead of the server is closed with 4007; otherwise the missed
 * dispatches (`s > seq`) are replayed in order, then RESUMED (GW-RS-3). A `seq` older than
 * the replay buffer reaches also gets op 9 d=false.
 */
export function handleResume(
  ctx: GatewayContext,
  connection: ProtocolConnection,
  d: unknown,
): void {
  if (
    !isObject(d) ||
    typeof d.session_id !== 'string' ||
    (d.seq !== null && !Number.isInteger(d.seq))
  ) {
    ctx.violation(
      'invalid-payload',
      connection,
      GatewayCloseCodes.UnknownOpcode,
      'RESUME needs token, session_id, seq',
    );
    return;
  }
  if (typeof d.token !== 'string' || !ctx.settings.tokens.has(rawToken(d.token))) {
    ctx.violation(
      'authentication-failed',
      connection,
      GatewayCloseCodes.AuthenticationFailed,
      'invalid token',
    );
    return;
  }
  const seq = (d.seq as number | null) ?? 0;
  const entry: ResumeRecord = {
    connectionId: connection.id,
    listener: connection.listener,
    sessionId: d.session_id,
    seq: d.seq as number | null,
    at: ctx.clock.now(),
    outcome: 'invalid-session',
    replayed: 0,
  };
  const session = ctx.sessions.get(d.session_id, entry.at);
  if (
    session === undefined ||
    !session.started ||
    session.tokenHash !== tokenHash(rawToken(d.token))
  ) {
    ctx.record.add('resumes', entry);
    connection.send({ op: GatewayOpcodes.InvalidSession, d: false });
    return;
  }
  if (seq > session.seq) {
    entry.outcome = 'invalid-seq';
    ctx.record.add('resumes', entry);
    ctx.sessions.invalidate(session);
    ctx.violation(
      'invalid-seq',
      connection,
      GatewayCloseCodes.InvalidSeq,
      `seq ${seq} > server seq ${session.seq}`,
    );
    return;
  }
  if (session.buffer.since(seq) === null) {
    ctx.record.add('resumes', entry);
    ctx.sessions.invalidate(session);
    connection.send({ op: GatewayOpcodes.InvalidSession, d: false });
    return;
  }
  const previous = session.link as ProtocolConnection | null;
  if (previous !== null && previous !== connection) {
    previous.detach();
    previous.close(GatewayCloseCodes.UnknownError, 'session resumed on another connection');
  }
  connection.attach(session, 'resume');
  entry.outcome = 'resumed';
  ctx.record.add('resumes', entry);
  afterHandshake(connection, () => {
    if (connection.session !== session) return;
    const missed = session.buffer.since(seq);
    if (missed === null) {
      // The buffer overflowed while RESUMED was held back: the gap can no longer be served.
      entry.outcome = 'invalid-session';
      connection.invalidateSession(false);
      return;
    }
    for (const dispatch of missed) connection.deliver(dispatch);
    entry.replayed = missed.length;
    connection.live = true;
    session.append(
      'RESUMED',
      ctx.settings.trace ? { _trace: ['["fake-gateway-resume",{"micros":0.0}]'] } : {},
    );
    ctx.record.touch();
    misbehaveAfterHandshake(connection);
  });
}
