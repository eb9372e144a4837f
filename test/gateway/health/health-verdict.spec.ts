import {
  judgeAcrossProcesses,
  judgeHealth,
  MAX_PROBLEMS,
  reportForOtherProcesses,
  ShardState,
  type ProcessHealthReport,
  type ShardHealthReport,
} from 'nestjs-discord-gateway/core';

const NOW = 1_000_000;

function shard(shardId: number, fields: Partial<ShardHealthReport> = {}): ShardHealthReport {
  return {
    shardId,
    state: ShardState.Active,
    inactiveSince: null,
    closeCode: null,
    startingUntil: null,
    identifyEtaMs: null,
    ...fields,
  };
}

const down = (shardId: number, since: number, fields: Partial<ShardHealthReport> = {}) =>
  shard(shardId, { state: ShardState.Disconnected, inactiveSince: since, ...fields });

describe('judgeHealth: one verdict from every shard', () => {
  it('up: every shard Active; ready and live', () => {
    const verdict = judgeHealth([shard(0), shard(1)], { now: NOW });
    expect(verdict).toMatchObject({ status: 'up', ready: true, live: true, problems: [] });
    expect(verdict.shards).toMatchObject({ total: 2, active: 2 });
    expect(verdict.reason).toBe('every shard Active (2)');
  });

  it('starting: shards not yet Active within the expected start-up time; not ready, live', () => {
    const identifying = shard(1, {
      state: ShardState.Identifying,
      inactiveSince: NOW - 50_000,
      startingUntil: NOW + 10_000,
    });
    const verdict = judgeHealth([shard(0, { startingUntil: NOW + 10_000 }), identifying], {
      now: NOW,
    });
    expect(verdict).toMatchObject({ status: 'starting', ready: false, live: true });
    expect(verdict.problems).toEqual([
      { shardId: 1, status: 'starting', state: 'IDENTIFYING', inactiveMs: 50_000, closeCode: null },
    ]);
    // Before the cluster created any shard.
    expect(judgeHealth([], { now: NOW, starting: true }).status).toBe('starting');
    expect(judgeHealth([], { now: NOW })).toMatchObject({
      status: 'down',
      ready: false,
      live: true,
    });
  });

  it('a start-up that overran its expected end: reconnecting for the threshold, then down', () => {
    const late = (now: number) =>
      judgeHealth([down(0, NOW - 500_000, { startingUntil: NOW })], {
        now,
        disconnectedThresholdMs: 60_000,
      });
    expect(late(NOW + 1).status).toBe('degraded');
    expect(late(NOW + 60_000).status).toBe('degraded');
    expect(late(NOW + 60_001)).toMatchObject({ status: 'down', ready: false, live: false });
  });

  it('degraded: a shard reconnecting within the threshold; still ready', () => {
    const verdict = judgeHealth([shard(0), down(1, NOW - 59_000, { closeCode: 4000 })], {
      now: NOW,
    });
    expect(verdict).toMatchObject({ status: 'degraded', ready: true, live: true });
    expect(verdict.reason).toBe('1 reconnecting; 1 of 2 Active');
    expect(verdict.problems[0]).toMatchObject({ status: 'reconnecting', inactiveMs: 59_000 });
  });

  it('degraded with no shard Active (a gateway outage): live, but not ready, since nothing is served', () => {
    const verdict = judgeHealth([down(0, NOW - 3_000), down(1, NOW - 30_000)], { now: NOW });
    expect(verdict).toMatchObject({ status: 'degraded', ready: false, live: true });
    expect(verdict.reason).toBe('2 reconnecting; 0 of 2 Active');
  });

  it('down: disconnected past the threshold (default 60 s); not live, a restart may help', () => {
    const verdict = judgeHealth([shard(0), down(1, NOW - 60_001)], { now: NOW });
    expect(verdict).toMatchObject({ status: 'down', ready: false, live: false });
    expect(verdict.reason).toBe('1 disconnected for more than 60 s; 1 of 2 Active');
    const custom = judgeHealth([down(1, NOW - 60_001)], {
      now: NOW,
      disconnectedThresholdMs: 120_000,
    });
    expect(custom.status).toBe('degraded');
  });

  it('a shard waiting its turn in the identify queue gets its queue ETA on top of the threshold', () => {
    const queued = (identifyEtaMs: number | null) =>
      judgeHealth([down(0, NOW - 90_000, { state: ShardState.Identifying, identifyEtaMs })], {
        now: NOW,
      }).status;
    expect(queued(30_000)).toBe('degraded');
    expect(queued(29_999)).toBe('down');
    expect(queued(null)).toBe('down');
  });

  it('down: a fatal close (4004) is down but live: a restart cannot fix the token', () => {
    const fatal = shard(2, {
      state: ShardState.FatallyClosed,
      inactiveSince: NOW - 1_000,
      closeCode: 4004,
    });
    const verdict = judgeHealth([shard(0), down(1, NOW - 5_000), fatal], { now: NOW });
    expect(verdict).toMatchObject({ status: 'down', ready: false, live: true });
    expect(verdict.reason).toBe(
      '1 fatally closed (shard 2 with 4004), 1 reconnecting; 1 of 3 Active',
    );
    expect(verdict.problems.map((p) => [p.shardId, p.status])).toEqual([
      [2, 'fatal'],
      [1, 'reconnecting'],
    ]);
  });

  it('down: closed shards (a cluster shut down) are not ready, and not a reason to restart', () => {
    const verdict = judgeHealth([shard(0, { state: ShardState.Closed, inactiveSince: NOW })], {
      now: NOW,
    });
    expect(verdict).toMatchObject({ status: 'down', ready: false, live: true });
  });

  it(`lists at most ${MAX_PROBLEMS} problems, worst first, but counts every shard`, () => {
    const reports = Array.from({ length: 1_000 }, (_, id) =>
      id % 10 === 0 ? down(id, NOW - 1_000) : shard(id),
    );
    reports[999] = shard(999, {
      state: ShardState.FatallyClosed,
      closeCode: 4014,
      inactiveSince: NOW,
    });
    const verdict = judgeHealth(reports, { now: NOW });
    expect(verdict.shards).toMatchObject({
      total: 1_000,
      active: 899,
      reconnecting: 100,
      fatal: 1,
    });
    expect(verdict.problems).toHaveLength(MAX_PROBLEMS);
    expect(verdict.problems[0]).toMatchObject({ shardId: 999, status: 'fatal', closeCode: 4014 });
    expect(verdict.problems.slice(1).map((p) => p.shardId)).toEqual(
      Array.from({ length: MAX_PROBLEMS - 1 }, (_, i) => i * 10),
    );
  });
});

describe('judgeAcrossProcesses: one bot, several gateway processes', () => {
  const WALL = 1_700_000_000_000;
  const source = (reports: ProcessHealthReport[]) => ({ reports: async () => reports });

  it('every shard of shardCount held by a process with a fresh report: up', async () => {
    const verdict = await judgeAcrossProcesses(
      source([
        { process: 'a', reportedAt: WALL - 1_000, shards: [shard(0), shard(1)] },
        { process: 'b', reportedAt: WALL - 2_000, shards: [shard(2), shard(3)] },
      ]),
      { shardCount: 4, now: WALL },
    );
    expect(verdict).toMatchObject({ status: 'up', ready: true });
    expect(verdict.shards.total).toBe(4);
  });

  it('a process whose report went stale (it died): its shards are missing, the bot is down', async () => {
    const verdict = await judgeAcrossProcesses(
      source([
        { process: 'a', reportedAt: WALL - 1_000, shards: [shard(0), shard(1)] },
        { process: 'b', reportedAt: WALL - 30_001, shards: [shard(2), shard(3)] },
      ]),
      { shardCount: 4, now: WALL },
    );
    expect(verdict).toMatchObject({ status: 'down', ready: false, live: true });
    expect(verdict.shards).toMatchObject({ total: 4, active: 2, missing: 2 });
    expect(verdict.reason).toBe('2 held by no live gateway process; 2 of 4 Active');
    const relaxed = await judgeAcrossProcesses(
      source([{ process: 'b', reportedAt: WALL - 30_001, shards: [shard(0)] }]),
      { shardCount: 1, now: WALL, staleAfterMs: 60_000 },
    );
    expect(relaxed.status).toBe('up');
  });

  it('a shard two processes report (a takeover) is judged by the newer report', async () => {
    const old = { process: 'old', reportedAt: WALL - 5_000, shards: [down(0, WALL - 200_000)] };
    const taken = { process: 'new', reportedAt: WALL - 1_000, shards: [shard(0)] };
    expect(
      (await judgeAcrossProcesses(source([old, taken]), { shardCount: 1, now: WALL })).status,
    ).toBe('up');
    expect(
      (await judgeAcrossProcesses(source([taken, old]), { shardCount: 1, now: WALL })).status,
    ).toBe('up');
  });

  it('a process reports on the wall clock what its own clock measured', () => {
    const report = reportForOtherProcesses(
      'host-1:42',
      [down(3, 9_000, { startingUntil: 12_000 })],
      10_000,
      WALL,
    );
    expect(report).toEqual({
      process: 'host-1:42',
      reportedAt: WALL,
      shards: [down(3, WALL - 1_000, { startingUntil: WALL + 2_000 })],
    });
  });
});
