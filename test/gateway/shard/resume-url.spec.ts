import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import { normalizeShardOptions, type ShardOptions } from '../../../lib/gateway/config/index.js';
import { Connection } from '../../../lib/gateway/shard/connection.js';
import { ResumeUrlPolicy } from '../../../lib/gateway/shard/resume-url.js';
import { captureLogger } from './helpers.js';
import { PREFIX, TOKEN } from './parts-support.js';

const RESUME_URL = 'wss://us-east1-b.gateway.discord.gg';

function policy(options: Partial<ShardOptions> = {}) {
  const logs = captureLogger();
  const config = normalizeShardOptions({ token: TOKEN, intents: 513, ...options });
  return { urls: new ResumeUrlPolicy(config, logs, PREFIX), logs };
}

const clock = new ManualClock();
/** A connection attempt that ended, through the resume URL or not, with or without HELLO. */
function ended(viaResumeUrl: boolean, hello: boolean): Connection {
  const conn = new Connection(clock, 1, 'unused', true, viaResumeUrl);
  conn.helloReceived = hello;
  conn.end();
  return conn;
}

describe('ResumeUrlPolicy: where a connection goes', () => {
  it('IDENTIFY always on the gateway URL; RESUME on the resume URL when there is one', () => {
    const { urls } = policy({ gatewayUrl: 'wss://gateway.discord.gg/', compression: 'none' });
    expect(urls.target(false)).toBe('wss://gateway.discord.gg/?v=10&encoding=json');
    expect(urls.target(true)).toBe('wss://gateway.discord.gg/?v=10&encoding=json');
    expect(urls.usesResumeUrl(true)).toBe(false);
    urls.accept(RESUME_URL);
    expect(urls.target(true)).toBe(`${RESUME_URL}/?v=10&encoding=json`);
    expect(urls.usesResumeUrl(true)).toBe(true);
    expect(urls.target(false)).toBe('wss://gateway.discord.gg/?v=10&encoding=json');
    expect(urls.usesResumeUrl(false)).toBe(false);
  });

  it('the query names the transport compression', () => {
    expect(policy({ compression: 'zlib-stream' }).urls.target(false)).toBe(
      'wss://gateway.discord.gg/?v=10&encoding=json&compress=zlib-stream',
    );
    expect(policy({ compression: 'zstd-stream' }).urls.target(false)).toBe(
      'wss://gateway.discord.gg/?v=10&encoding=json&compress=zstd-stream',
    );
  });

  it('drop() forgets the resume URL', () => {
    const { urls } = policy();
    urls.accept(RESUME_URL);
    urls.drop();
    expect(urls.url).toBeNull();
    expect(urls.usesResumeUrl(true)).toBe(false);
  });
});

describe("ResumeUrlPolicy: READY's resume_gateway_url", () => {
  it('absent or empty: none, silently', () => {
    const { urls } = policy();
    for (const value of [undefined, null, '']) expect(urls.check(value)).toEqual({ url: null });
  });

  it('a wss: host, trailing slashes dropped', () => {
    const { urls } = policy();
    expect(urls.check(`${RESUME_URL}/`)).toEqual({ url: RESUME_URL });
    expect(urls.check(`${RESUME_URL}/resume-abc`)).toEqual({ url: `${RESUME_URL}/resume-abc` });
  });

  it.each([
    ['ws://evil.example', /ws:/],
    ['ws://127.0.0.1:9000', /no downgrade to ws:/],
    ['https://gateway.discord.gg', /wss:/],
    ['wss://user:pass@gateway.discord.gg', /credentials/],
    ['wss://gateway.discord.gg/#frag', /fragment/],
    ['wss://attacker.example', /parent domain/],
    ['not a url', /wss:/],
    [42, /wss:/],
  ])('%p is refused (the token would go there): %p', (value, rule) => {
    const { urls } = policy();
    const checked = urls.check(value);
    expect(checked).toEqual({ rule: expect.stringMatching(rule), repeated: false });
    // The same URL again: refused, marked repeated so it is reported once.
    expect(urls.check(value)).toEqual({ rule: expect.stringMatching(rule), repeated: true });
  });

  it('ws: to a loopback host is taken when the gateway URL is ws: too', () => {
    const { urls } = policy({ gatewayUrl: 'ws://127.0.0.1:8080' });
    expect(urls.check('ws://127.0.0.1:9000/')).toEqual({ url: 'ws://127.0.0.1:9000' });
  });

  it('check() changes nothing; accept() does', () => {
    const { urls } = policy();
    urls.check(RESUME_URL);
    expect(urls.url).toBeNull();
    urls.accept(RESUME_URL);
    expect(urls.url).toBe(RESUME_URL);
  });
});

describe('ResumeUrlPolicy: falling back to the gateway URL', () => {
  it('after resumeUrlFailures attempts in a row through the resume URL that never got HELLO', () => {
    const { urls, logs } = policy({ reconnect: { resumeUrlFailures: 3 } });
    urls.accept(RESUME_URL);
    urls.connectionEnded(ended(true, false));
    urls.connectionEnded(ended(true, false));
    expect(urls.url).toBe(RESUME_URL);
    urls.connectionEnded(ended(true, false));
    expect(urls.url).toBeNull();
    expect(urls.target(true)).toMatch(/^wss:\/\/gateway\.discord\.gg\//);
    expect(logs.text()).toMatch(/the resume URL failed 3 times in a row; resuming on the base URL/);
  });

  it('a HELLO through the resume URL starts the count again', () => {
    const { urls } = policy({ reconnect: { resumeUrlFailures: 2 } });
    urls.accept(RESUME_URL);
    urls.connectionEnded(ended(true, false));
    const hello = new Connection(clock, 2, 'unused', true, true);
    urls.helloReceived(hello);
    urls.connectionEnded(ended(true, false));
    expect(urls.url).toBe(RESUME_URL);
    urls.connectionEnded(ended(true, false));
    expect(urls.url).toBeNull();
  });

  it('a new resume URL from READY starts the count again', () => {
    const { urls } = policy({ reconnect: { resumeUrlFailures: 2 } });
    urls.accept(RESUME_URL);
    urls.connectionEnded(ended(true, false));
    urls.accept('wss://us-west1-a.gateway.discord.gg');
    urls.connectionEnded(ended(true, false));
    expect(urls.url).toBe('wss://us-west1-a.gateway.discord.gg');
  });

  it('ends after HELLO, or through the gateway URL, are not failures of the resume URL', () => {
    const { urls } = policy({ reconnect: { resumeUrlFailures: 1 } });
    urls.accept(RESUME_URL);
    urls.connectionEnded(ended(true, true));
    urls.connectionEnded(ended(false, false));
    expect(urls.url).toBe(RESUME_URL);
    urls.connectionEnded(ended(true, false));
    expect(urls.url).toBeNull();
  });
});
