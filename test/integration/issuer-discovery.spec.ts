import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { InvalidTokenError } from '../../lib/errors/auth-errors.js';
import type { AuthModuleOptions } from '../../lib/options/auth-options.js';
import type { IssuerDiscoveryEvent } from '../../lib/keys/discovery-key-source.js';
import type { JwksFetchEvent } from '../../lib/keys/jwks-client.js';
import { createKeySources } from '../../lib/options/create-key-sources.js';
import { createTokenVerifier } from '../../lib/options/create-token-verifier.js';
import { resolveAuthOptions } from '../../lib/options/resolve-auth-options.js';
import { NO_TRACING } from '../../lib/trace-hooks.js';
import type { TokenVerifier } from '../../lib/verify/token-verifier.js';
import { AUDIENCE } from '../support/forged-tokens.js';
import { IssuerServer, OIDC_PATH, RFC8414_PATH } from '../support/issuer-server.js';
import { tripwire } from '../support/jwks-server.js';
import { makeKey, validToken } from '../support/keys.js';
import { settlesWithin } from '../support/settles-within.js';

const START = 1_700_000_000;
const COOLDOWN = 5;
const key = makeKey('ES256');

describe('issuer discovery against a local issuer', () => {
  let server: IssuerServer;
  let clock: number;
  let discoveries: IssuerDiscoveryEvent[];
  let fetches: JwksFetchEvent[];

  const optionsFor = (
    issuer: string,
    extra: Partial<AuthModuleOptions> = {},
  ): ReturnType<typeof resolveAuthOptions> =>
    resolveAuthOptions({
      issuers: [{ issuer, discovery: true }],
      audience: AUDIENCE,
      now: () => clock,
      verifiedTokenCacheSize: 0,
      jwks: { cooldownSeconds: COOLDOWN, timeoutMs: 2000 },
      events: {
        issuerDiscovered: (event) => discoveries.push(event),
        jwksFetched: (event) => fetches.push(event),
      },
      ...extra,
    });
  const verifierFor = (issuer = server.issuer, extra: Partial<AuthModuleOptions> = {}) =>
    createTokenVerifier(optionsFor(issuer, extra));
  const tokenOf = (issuer = server.issuer) => validToken(key, clock, { iss: issuer });
  const outcome = (verifier: TokenVerifier, token = tokenOf()) =>
    Promise.resolve()
      .then(() => verifier.verify(token))
      .then(
        (principal) => `accepted ${principal.subject}`,
        (error: InvalidTokenError) => error.reason,
      );

  beforeEach(async () => {
    server = await new IssuerServer().start();
    server.keys = [key.publicJwk];
    clock = START;
    discoveries = [];
    fetches = [];
  });
  afterEach(() => server.stop());

  it('reads the jwks_uri from the OpenID Connect document and verifies with its keys', async () => {
    server.routes.set(OIDC_PATH, server.metadata());
    const verifier = verifierFor();
    expect(await outcome(verifier)).toBe('accepted alice');
    expect(server.requests).toEqual([OIDC_PATH, '/jwks.json']);
    expect(discoveries).toMatchObject([
      {
        issuer: server.issuer,
        ok: true,
        cause: 'token',
        metadataUri: `${server.issuer}${OIDC_PATH}`,
        jwksUri: server.jwksUri,
      },
    ]);
    expect(fetches).toMatchObject([{ ok: true, issuer: server.issuer, uri: server.jwksUri }]);
    // Found once for the life of the verifier.
    expect(await outcome(verifier)).toBe('accepted alice');
    expect(server.hits(OIDC_PATH)).toBe(1);
  });

  it('falls back to RFC 8414 metadata where the OpenID Connect document answers 404', async () => {
    server.routes.set(RFC8414_PATH, server.metadata());
    expect(await outcome(verifierFor())).toBe('accepted alice');
    expect(server.requests).toEqual([OIDC_PATH, RFC8414_PATH, '/jwks.json']);
    expect(discoveries[0]).toMatchObject({ ok: true, metadataUri: server.origin + RFC8414_PATH });
  });

  describe('an issuer with a path', () => {
    let tenant: IssuerServer;
    beforeEach(async () => {
      tenant = await new IssuerServer('/tenants/a').start();
      tenant.keys = [key.publicJwk];
    });
    afterEach(() => tenant.stop());

    it.each([
      { form: 'OpenID Connect, after the path', path: `/tenants/a${OIDC_PATH}`, tries: 1 },
      { form: 'RFC 8414, before the path', path: `${RFC8414_PATH}/tenants/a`, tries: 2 },
      { form: 'RFC 8414 segment after the path', path: `/tenants/a${RFC8414_PATH}`, tries: 3 },
    ])('finds its metadata at the $form form', async ({ path, tries }) => {
      tenant.routes.set(path, tenant.metadata());
      expect(await outcome(verifierFor(tenant.issuer), tokenOf(tenant.issuer))).toBe(
        'accepted alice',
      );
      expect(tenant.requests.slice(0, -1)).toEqual(
        [`/tenants/a${OIDC_PATH}`, `${RFC8414_PATH}/tenants/a`, `/tenants/a${RFC8414_PATH}`].slice(
          0,
          tries,
        ),
      );
    });
  });

  it('refuses metadata that names another issuer, and fetches nothing it names', async () => {
    const wire = await tripwire();
    try {
      server.routes.set(
        OIDC_PATH,
        server.metadata({ issuer: `${server.issuer}/`, jwks_uri: wire.url }),
      );
      // A correct document further down must not be reached: only a 404 moves on.
      server.routes.set(RFC8414_PATH, server.metadata());
      const verifier = verifierFor();
      expect(await outcome(verifier)).toBe('keys_unavailable');
      expect(wire.hits()).toBe(0);
      expect(server.requests).toEqual([OIDC_PATH]);
      expect(discoveries).toMatchObject([
        { ok: false, metadataUri: `${server.issuer}${OIDC_PATH}` },
      ]);
      expect(discoveries[0].error?.message).toContain(
        `metadata names issuer "${server.issuer}/", not the configured "${server.issuer}"`,
      );
      expect(await verifier.keysHealth()).toEqual([
        {
          issuer: server.issuer,
          available: false,
          lastError: expect.stringContaining('discovery: '),
        },
      ]);
    } finally {
      await wire.close();
    }
  });

  it.each([
    { what: 'junk', answer: { text: '<html>not json' }, error: 'metadata is not JSON' },
    { what: 'a JSON array', answer: { json: [] }, error: 'metadata is not a JSON object' },
    { what: 'JSON null', answer: { json: null }, error: 'metadata is not a JSON object' },
    { what: 'a numeric issuer', member: { issuer: 42 }, error: 'metadata has no issuer string' },
    { what: 'no issuer', member: { issuer: undefined }, error: 'metadata has no issuer string' },
    { what: 'a numeric jwks_uri', member: { jwks_uri: 42 }, error: 'no jwks_uri string' },
    { what: 'a jwks_uri array', member: { jwks_uri: ['x'] }, error: 'no jwks_uri string' },
    { what: 'no jwks_uri', member: { jwks_uri: undefined }, error: 'no jwks_uri string' },
    { what: 'a relative jwks_uri', member: { jwks_uri: '/jwks.json' }, error: 'absolute URL' },
    { what: 'a file: jwks_uri', member: { jwks_uri: 'file:///etc/passwd' }, error: 'http(s)' },
    {
      what: 'a jwks_uri with credentials',
      member: { jwks_uri: 'http://svc:s3cret@127.0.0.1:1/jwks.json' },
      error: "metadata's jwks_uri must not carry credentials",
    },
    { what: 'a 500', answer: { status: 500, json: {} }, error: 'answered 500' },
    {
      what: 'a redirect',
      answer: { status: 302, text: '', headers: { location: 'http://127.0.0.1:1/x' } },
      error: 'answered 302 (redirects are not followed)',
    },
  ])(
    'refuses metadata with $what: 401 keys_unavailable, reported',
    async ({ answer, member, error }) => {
      server.routes.set(OIDC_PATH, answer ?? server.metadata(member));
      const verifier = verifierFor();
      expect(await outcome(verifier)).toBe('keys_unavailable');
      expect(discoveries).toMatchObject([{ ok: false, cause: 'token' }]);
      expect(discoveries[0].error?.message).toContain(error);
      expect(discoveries[0].error?.message).not.toContain('s3cret');
      expect(server.hits('/jwks.json')).toBe(0);
    },
  );

  it('refuses, under requireHttps, a discovered http jwks_uri outside loopback', async () => {
    server.routes.set(OIDC_PATH, server.metadata({ jwks_uri: 'http://keys.example.test/jwks' }));
    const verifier = verifierFor(server.issuer, { requireHttps: true });
    expect(await outcome(verifier)).toBe('keys_unavailable');
    expect(discoveries[0].error?.message).toContain(
      "metadata's jwks_uri must be https (or http to a loopback host)",
    );
    // A loopback one is taken under requireHttps, as a configured jwksUri would be.
    server.routes.set(OIDC_PATH, server.metadata());
    clock += COOLDOWN;
    expect(await outcome(verifier)).toBe('accepted alice');
  });

  it('follows no redirect: the place it points to is never asked', async () => {
    const wire = await tripwire();
    try {
      server.routes.set(OIDC_PATH, { status: 301, text: '', headers: { location: wire.url } });
      expect(await outcome(verifierFor())).toBe('keys_unavailable');
      expect(wire.hits()).toBe(0);
    } finally {
      await wire.close();
    }
  });

  it('stops reading a metadata document past its size limit, without waiting for its end', async () => {
    server.routes.set(OIDC_PATH, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"issuer":"${server.issuer}","x":"`);
      const timer = setInterval(() => res.write('x'.repeat(16 * 1024)), 1);
      res.on('close', () => clearInterval(timer));
    });
    const verifier = verifierFor(server.issuer, { jwks: { timeoutMs: 20_000 } });
    expect(await settlesWithin(outcome(verifier), 10_000)).toBe('keys_unavailable');
    expect(discoveries[0].error?.message).toContain('metadata document too large');
  });

  it('refuses a body announced as too large before reading it', async () => {
    server.routes.set(OIDC_PATH, {
      json: { issuer: server.issuer, jwks_uri: server.jwksUri, padding: 'x'.repeat(70 * 1024) },
    });
    expect(await outcome(verifierFor())).toBe('keys_unavailable');
    expect(discoveries[0].error?.message).toContain('metadata document too large');
  });

  it('abandons a reading that takes longer than jwks.timeoutMs', async () => {
    server.routes.set(OIDC_PATH, (_req, res) => {
      const timer = setTimeout(() => res.end(), 10_000);
      res.on('close', () => clearTimeout(timer));
    });
    const verifier = verifierFor(server.issuer, { jwks: { timeoutMs: 200 } });
    expect(await settlesWithin(outcome(verifier), 5_000)).toBe('keys_unavailable');
    expect(discoveries[0].error?.message).toMatch(/abort|timeout/i);
  });

  it('reads again for a token at most once per cooldown while the issuer is down', async () => {
    await server.stop();
    const verifier = verifierFor();
    const flood = () => Promise.all(Array.from({ length: 50 }, () => outcome(verifier)));
    expect(new Set(await flood())).toEqual(new Set(['keys_unavailable']));
    expect(discoveries).toHaveLength(1);
    clock += 1;
    await flood();
    expect(discoveries).toHaveLength(1);
    clock += COOLDOWN;
    await flood();
    expect(discoveries).toHaveLength(2);
    expect(discoveries.every((d) => !d.ok && d.cause === 'token')).toBe(true);
  });

  it('verifies the same token with no restart once a down issuer comes up', async () => {
    server.routes.set(OIDC_PATH, server.metadata());
    await server.stop();
    const verifier = verifierFor();
    const token = tokenOf();
    expect(await outcome(verifier, token)).toBe('keys_unavailable');
    expect((await verifier.keysHealth())[0]).toMatchObject({ available: false });
    await server.restart();
    clock += COOLDOWN;
    expect(await outcome(verifier, token)).toBe('accepted alice');
    expect((await verifier.keysHealth())[0]).toMatchObject({ available: true, keyCount: 1 });
    expect(discoveries.map((d) => d.ok)).toEqual([false, true]);
  });

  it('reports an issuer not yet discovered as unavailable to health checks, which read it', async () => {
    server.routes.set(RFC8414_PATH, server.metadata());
    await server.stop();
    const verifier = verifierFor();
    expect(await verifier.keysHealth()).toEqual([
      {
        issuer: server.issuer,
        available: false,
        lastError: expect.stringMatching(/^discovery: .*fetch failed/),
      },
    ]);
    expect(discoveries).toMatchObject([{ ok: false, cause: 'health' }]);
    await server.restart();
    clock += COOLDOWN;
    expect((await verifier.keysHealth())[0]).toMatchObject({ available: true, keyCount: 1 });
  });

  it('retries in the background until the issuer answers, then stops', async () => {
    server.routes.set(OIDC_PATH, server.metadata());
    await server.stop();
    const keys = createKeySources(optionsFor(server.issuer), NO_TRACING);
    const verifier = createTokenVerifier(optionsFor(server.issuer), NO_TRACING, keys.sources);
    try {
      keys.start();
      await settlesWithin(
        until(() => discoveries.length >= 1),
        5_000,
      );
      expect(discoveries[0]).toMatchObject({ ok: false, cause: 'start' });
      expect(discoveries[0].retryInSeconds).toBeGreaterThan(0);
      expect(discoveries[0].retryInSeconds).toBeLessThanOrEqual(60);
      await server.restart();
      // No token, no clock change: only the background retry can find it.
      await settlesWithin(
        until(() => discoveries.some((d) => d.ok)),
        20_000,
      );
      expect(discoveries.at(-1)).toMatchObject({ ok: true, cause: 'retry' });
      expect(await outcome(verifier)).toBe('accepted alice');
    } finally {
      keys.close();
    }
  }, 30_000);

  it('plans no retry once closed', async () => {
    await server.stop();
    const keys = createKeySources(optionsFor(server.issuer), NO_TRACING);
    keys.start();
    keys.close();
    await settlesWithin(
      until(() => discoveries.length >= 1),
      5_000,
    );
    expect(discoveries[0]).toMatchObject({ ok: false, cause: 'start' });
    expect(discoveries[0].retryInSeconds).toBeUndefined();
  });

  it('refuses at start-up an issuer that cannot be discovered, and discovery beside another source', () => {
    const resolve = (issuers: AuthModuleOptions['issuers']) => () =>
      resolveAuthOptions({ issuers, audience: AUDIENCE });
    expect(resolve([{ issuer: 'issuer-a', discovery: true }])).toThrow(
      'issuers[0].issuer is not an absolute URL (discovery)',
    );
    expect(resolve([{ issuer: 'ftp://idp.test', discovery: true }])).toThrow('must be http(s)');
    expect(resolve([{ issuer: 'https://u:p@idp.test', discovery: true }])).toThrow(
      'issuers[0].issuer must not carry credentials (discovery)',
    );
    expect(resolve([{ issuer: 'https://idp.test/?x=1', discovery: true }])).toThrow(
      'must not have a query or fragment',
    );
    expect(() =>
      resolveAuthOptions({
        issuers: [{ issuer: 'http://idp.test', discovery: true }],
        audience: AUDIENCE,
        requireHttps: true,
      }),
    ).toThrow('issuers[0].issuer must be https (or http to a loopback host) for discovery');
    expect(
      resolve([{ issuer: 'https://idp.test', discovery: true, jwksUri: 'https://idp.test/k' }]),
    ).toThrow('give exactly one of jwksUri, keys, keySource and discovery');
    expect(resolve([{ issuer: 'https://idp.test', discovery: false }])).toThrow(
      'give exactly one of',
    );
    expect(
      resolve([{ issuer: 'https://idp.test', discovery: 'true' as unknown as boolean }]),
    ).toThrow('issuers[0].discovery must be a boolean');
    expect(
      resolve([{ issuer: 'https://idp.test', discovery: false, jwksUri: 'https://idp.test/k' }]),
    ).not.toThrow();
  });
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}
