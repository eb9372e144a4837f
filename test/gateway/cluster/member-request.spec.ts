import type { GatewayGuildMembersChunkDispatchData } from 'discord-api-types/v10';
import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import { MemberRequest } from '../../../lib/gateway/cluster/member-request.js';
import {
  GatewayTimeoutError,
  MemberRequestRateLimitedError,
  ProtocolError,
} from '../../../lib/gateway/errors/errors.js';

const GUILD = '41771983444115456';

function chunk(
  index: number,
  count: number,
  extra: Partial<GatewayGuildMembersChunkDispatchData> = {},
) {
  return {
    guild_id: GUILD,
    members: [{ user: { id: String(1000 + index) } }],
    chunk_index: index,
    chunk_count: count,
    nonce: 'n1',
    ...extra,
  } as GatewayGuildMembersChunkDispatchData;
}

function create(clock = new ManualClock(), timeoutMs = 5_000) {
  const settled: MemberRequest[] = [];
  const request = new MemberRequest(GUILD, 0, 'n1', timeoutMs, clock, (r) => settled.push(r));
  return { request, settled, clock };
}

describe('MemberRequest (GW-GT-19)', () => {
  it('GW-GT-19: completes after chunk_count distinct chunks, counted (not by the last index)', async () => {
    const { request, settled } = create();
    const all = request.all();
    // The last index first: a client that stops at chunk_index == chunk_count - 1 would lose 0..2.
    for (const index of [3, 0, 2]) request.handleChunk(chunk(index, 4));
    request.handleChunk(chunk(2, 4)); // a duplicate does not count twice
    expect(request.settled).toBe(false);
    request.handleChunk(chunk(1, 4));
    const result = await all;
    expect(request.settled).toBe(true);
    expect(settled).toEqual([request]);
    expect(result.chunks.map((c) => c.chunk_index)).toEqual([0, 1, 2, 3]);
    expect(result.members.map((m) => m.user.id)).toEqual(['1000', '1001', '1002', '1003']);
  });

  it('gathers not_found and presences of every chunk', async () => {
    const { request } = create();
    request.handleChunk(
      chunk(0, 2, { not_found: ['5', '6'], presences: [{ user: { id: '1000' } } as never] }),
    );
    request.handleChunk(chunk(1, 2, { not_found: [7] }));
    const result = await request.all();
    expect(result.notFound).toEqual(['5', '6', '7']);
    expect(result.presences).toHaveLength(1);
  });

  it('streams chunks to subscribers (late ones get the earlier chunks first) and to async iterators', async () => {
    const { request } = create();
    const early: number[] = [];
    let completed = false;
    request.subscribe({
      next: (c) => early.push(c.chunk_index),
      complete: () => (completed = true),
    });
    request.handleChunk(chunk(0, 3));
    const late: number[] = [];
    request.subscribe({ next: (c) => late.push(c.chunk_index) });
    const iterated: number[] = [];
    const iterating = (async () => {
      for await (const c of request) iterated.push(c.chunk_index);
    })();
    request.handleChunk(chunk(1, 3));
    request.handleChunk(chunk(2, 3));
    await iterating;
    expect(early).toEqual([0, 1, 2]);
    expect(late).toEqual([0, 1, 2]);
    expect(iterated).toEqual([0, 1, 2]);
    expect(completed).toBe(true);
  });

  it('times out with GatewayTimeoutError after timeoutMs without a chunk (each chunk re-arms it)', async () => {
    const { request, clock } = create(new ManualClock(), 5_000);
    const outcome = request.all().catch((error: unknown) => error);
    await clock.advance(4_000);
    request.handleChunk(chunk(0, 2));
    await clock.advance(4_999);
    expect(request.settled).toBe(false);
    await clock.advance(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(GatewayTimeoutError);
    expect((error as GatewayTimeoutError).timeoutMs).toBe(5_000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fail() rejects all(), errors subscribers, and the iterator throws after the chunks received', async () => {
    const { request, clock } = create();
    request.handleChunk(chunk(0, 3));
    const errors: unknown[] = [];
    request.subscribe({ error: (e) => errors.push(e) });
    const failure = new MemberRequestRateLimitedError(GUILD, 24.5, 'n1');
    request.fail(failure);
    await expect(request.all()).rejects.toBe(failure);
    expect(errors).toEqual([failure]);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const c of request) seen.push(c.chunk_index);
      })(),
    ).rejects.toBe(failure);
    expect(seen).toEqual([0]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('MemberRequest against malformed GUILD_MEMBERS_CHUNK answers', () => {
  it.each<[string, Record<string, unknown>]>([
    ['not_found that is not an array', { not_found: 'x' }],
    ['presences that are not an array', { presences: 7 }],
    ['members that are not an array', { members: { length: 1 } }],
    ['a chunk_index past chunk_count', { chunk_index: 5 }],
    ['chunk_count 0', { chunk_count: 0 }],
    ['a fractional chunk_count', { chunk_count: 1.5 }],
  ])(
    'a last chunk with %s fails the request with a ProtocolError at once (all() never hangs)',
    async (_name, broken) => {
      const { request, settled, clock } = create();
      const result = request.all().catch((e: unknown) => e);
      request.handleChunk(chunk(0, 2));
      request.handleChunk({ ...chunk(1, 2), ...broken } as GatewayGuildMembersChunkDispatchData);
      const error = await result;
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as Error).message).toContain(GUILD);
      expect(settled).toEqual([request]);
      expect(clock.pendingTimers).toBe(0);
    },
  );
});
