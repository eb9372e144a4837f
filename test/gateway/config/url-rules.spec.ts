import {
  checkApiUrl,
  checkGatewayUrl,
  checkResumeUrl,
  connectionUrl,
  resumeHostAllowed,
} from '../../../lib/gateway/config/rules.js';

const params = { v: 10, encoding: 'json', compress: 'zlib-stream' };

describe('connection URLs (GW-URL-2, GW-URL-4)', () => {
  it.each([
    [
      'wss://gateway.discord.gg',
      'wss://gateway.discord.gg/?v=10&encoding=json&compress=zlib-stream',
    ],
    [
      'wss://proxy.example/discord',
      'wss://proxy.example/discord?v=10&encoding=json&compress=zlib-stream',
    ],
    [
      'ws://127.0.0.1:4000/resume-abc/',
      'ws://127.0.0.1:4000/resume-abc/?v=10&encoding=json&compress=zlib-stream',
    ],
    [
      // The user's own query is kept; v, encoding and compress are the library's.
      'wss://proxy.example/gw?region=eu&v=6&encoding=etf&compress=zstd-stream',
      'wss://proxy.example/gw?region=eu&v=10&encoding=json&compress=zlib-stream',
    ],
  ])('%s -> %s', (base, expected) => {
    const checked = checkGatewayUrl(base, false);
    expect(checked).toHaveProperty('url');
    expect(connectionUrl((checked as { url: string }).url, params)).toBe(expected);
  });

  it('without compression any compress of the base URL is removed', () => {
    expect(
      connectionUrl('wss://proxy.example/gw?compress=zlib-stream&x=1', {
        v: 10,
        encoding: 'etf',
        compress: null,
      }),
    ).toBe('wss://proxy.example/gw?x=1&v=10&encoding=etf');
  });

  it('keeps the security rules: scheme, loopback-only ws:, no credentials; refuses a fragment', () => {
    expect(checkGatewayUrl('wss://gateway.discord.gg/', false)).toEqual({
      url: 'wss://gateway.discord.gg',
    });
    expect(checkGatewayUrl('wss://proxy.example/discord#top', false)).toEqual({
      rule: 'must have no fragment',
    });
    expect(checkGatewayUrl('wss://u:p@proxy.example/discord', false)).toEqual({
      rule: 'must not contain credentials',
    });
    expect(checkGatewayUrl('ws://proxy.example/discord', false)).toHaveProperty('rule');
    expect(checkGatewayUrl('ws://proxy.example/discord', true)).toEqual({
      url: 'ws://proxy.example/discord',
    });
    expect(checkGatewayUrl('https://proxy.example/discord', false)).toHaveProperty('rule');
  });

  it('names every rule a URL breaks at once, not only the first', () => {
    expect(checkGatewayUrl('ws://u:p@proxy.example/discord#top', false)).toEqual({
      rule:
        'may use ws: only for a loopback host (127.0.0.0/8, ::1, localhost) unless ' +
        'allowInsecureGateway is true; use wss:; it must not contain credentials; ' +
        'it must have no fragment',
    });
    expect(checkApiUrl('http://u:p@api.example/api?x=1', false)).toEqual({
      rule:
        'may use http: only for a loopback host (127.0.0.0/8, ::1, localhost) unless ' +
        'allowInsecureGateway is true; use https:; it must not contain credentials; ' +
        'it must have no query or fragment',
    });
  });
});

describe('where a RESUME may go (README: Security)', () => {
  const gateway = 'wss://gateway.discord.gg';

  it.each([
    ['gateway-us-east1-c.discord.gg', 'gateway.discord.gg', [], true],
    ['gateway.discord.gg', 'gateway.discord.gg', [], true],
    ['a.b.discord.gg', 'gateway.discord.gg', [], true],
    ['attacker.example', 'gateway.discord.gg', [], false],
    ['discord.gg.attacker.example', 'gateway.discord.gg', [], false],
    ['evildiscord.gg', 'gateway.discord.gg', [], false],
    // A two-label gateway host has no parent domain of two labels: only itself.
    ['x.gg', 'discord.gg', [], false],
    ['127.0.0.2', '127.0.0.1', [], false],
    ['127.0.0.1', '127.0.0.1', [], true],
    ['resume.partner.example', 'proxy.example', ['resume.partner.example'], true],
    ['eu.partner.example', 'proxy.example', ['*.partner.example'], true],
    ['partner.example', 'proxy.example', ['*.partner.example'], false],
  ])('%s against gateway %s (trusted %j): %s', (host, gatewayHost, trusted, allowed) => {
    expect(resumeHostAllowed(host, gatewayHost, trusted)).toBe(allowed);
  });

  it('READY and stored resume URLs: path kept, host pinned, scheme never downgraded', () => {
    expect(checkResumeUrl('wss://gateway-us-east1-c.discord.gg', gateway, false)).toEqual({
      url: 'wss://gateway-us-east1-c.discord.gg',
    });
    expect(
      checkResumeUrl('wss://gateway-us-east1-c.discord.gg/resume-abc', gateway, false),
    ).toEqual({ url: 'wss://gateway-us-east1-c.discord.gg/resume-abc' });
    expect(checkResumeUrl('wss://attacker.example', gateway, false)).toEqual({
      rule: "must be on the gateway URL's host or under its parent domain (or a host listed in trustedResumeHosts)",
    });
    expect(checkResumeUrl('wss://attacker.example', gateway, false, ['attacker.example'])).toEqual({
      url: 'wss://attacker.example',
    });
    expect(checkResumeUrl('ws://127.0.0.1:5000', 'wss://127.0.0.1:4000', false)).toEqual({
      rule: 'must be wss: like the gateway URL (no downgrade to ws:)',
    });
    expect(checkResumeUrl('', gateway, false)).toEqual({ url: '' });
  });
});
