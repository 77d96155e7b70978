import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JwksServer } from '../support/jwks-server.js';
import { forge, makeKey, validClaims } from '../support/keys.js';
import { ADAPTERS } from '../support/http-app.js';
import { ensureBuild, freePort, MIGRATION_EXAMPLE_MAIN, ROOT } from './built-app.js';
import { Service } from './service-process.js';

// docs/migration-from-passport.md's side by side, run: examples/migration/before.ts (passport-jwt
// + jwks-rsa) and after.ts (Tessera), built and served as processes, against one JWKS, asked the
// same requests. Built, not in Jest: jwks-rsa requires the ES module `jose`, which Node loads and
// Jest's loader does not before Node 24.9.

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'orders-api';
const key = makeKey('RS256');
const now = Math.floor(Date.now() / 1000);
const claims = validClaims(now);
const header = { alg: 'RS256', kid: key.kid, typ: 'at+jwt' };
const signed = (payload: object, head: object = header) => forge(head, payload, { key });
const without = (name: string) =>
  Object.fromEntries(Object.entries(claims).filter(([n]) => n !== name));

const good = signed(claims);
const tokens = {
  good,
  expired: signed({ ...claims, iat: now - 900, exp: now - 600 }),
  otherAudience: signed({ ...claims, aud: 'billing-api' }),
  audienceList: signed({ ...claims, aud: ['billing-api', AUDIENCE] }),
  otherIssuer: signed({ ...claims, iss: 'https://other.test' }),
  badSignature: forge(header, claims, { key: makeKey('RS256', key.kid) }),
  algNone: forge({ ...header, alg: 'none' }, claims, { none: true }),
  hmacWithPublicKey: forge({ ...header, alg: 'HS256' }, claims, {
    hmacSecret: key.publicKey.export({ type: 'spki', format: 'pem' }),
  }),
  unknownKid: forge({ ...header, kid: 'unknown-kid' }, claims, { key: makeKey('RS256') }),
  typJwt: signed(claims, { ...header, typ: 'JWT' }),
  noJti: signed(without('jti')),
};

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * One request, asked of both apps. `status` is both apps' answer; `after`, where Tessera is
 * deliberately stricter (the doc's table says why). `answer` is the body both return
 * (`request.user`, on most routes).
 */
interface Row {
  readonly case: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly status: number;
  readonly after?: number;
  readonly answer?: unknown;
  /**
   * Tessera's `WWW-Authenticate` on a 401 (passport-jwt sends none); none where the guard's own
   * `handleRequest` throws an exception of its own.
   */
  readonly challenge?: string;
  /** What the guard's own `handleRequest` saw as `info`, before and after. */
  readonly why?: { readonly before: string; readonly after: string };
}

const invalid = 'Bearer error="invalid_token"';
const ROWS: Row[] = [
  { case: 'a valid token', path: '/me', headers: bearer(good), status: 200, answer: claims },
  {
    case: 'an audience list that holds the audience',
    path: '/me',
    headers: bearer(tokens.audienceList),
    status: 200,
    answer: { ...claims, aud: ['billing-api', AUDIENCE] },
  },
  {
    case: 'an expired token',
    path: '/me',
    headers: bearer(tokens.expired),
    status: 401,
    challenge: invalid,
  },
  {
    case: 'another audience',
    path: '/me',
    headers: bearer(tokens.otherAudience),
    status: 401,
    challenge: invalid,
  },
  {
    case: 'another issuer',
    path: '/me',
    headers: bearer(tokens.otherIssuer),
    status: 401,
    challenge: invalid,
  },
  {
    case: 'a bad signature',
    path: '/me',
    headers: bearer(tokens.badSignature),
    status: 401,
    challenge: invalid,
  },
  {
    case: 'alg none',
    path: '/me',
    headers: bearer(tokens.algNone),
    status: 401,
    challenge: invalid,
  },
  {
    case: 'HS256 keyed with the public key',
    path: '/me',
    headers: bearer(tokens.hmacWithPublicKey),
    status: 401,
    challenge: invalid,
  },
  {
    case: 'an unknown kid',
    path: '/me',
    headers: bearer(tokens.unknownKid),
    status: 401,
    challenge: invalid,
  },
  { case: 'no token', path: '/me', headers: {}, status: 401, challenge: 'Bearer' },
  {
    case: 'another scheme',
    path: '/me',
    headers: { authorization: `Basic ${good}` },
    status: 401,
    challenge: 'Bearer',
  },
  { case: 'not a JWT', path: '/me', headers: bearer('not-a-jwt'), status: 401, challenge: invalid },
  {
    case: 'a Bearer header with no token',
    path: '/me',
    headers: { authorization: 'Bearer ' },
    status: 401,
    after: 400,
  },
  {
    case: 'a Bearer header with two words',
    path: '/me',
    headers: { authorization: `Bearer ${good} extra` },
    status: 200,
    after: 400,
  },
  {
    case: 'typ JWT',
    path: '/me',
    headers: bearer(tokens.typJwt),
    status: 200,
    after: 401,
    challenge: invalid,
  },
  {
    case: 'no jti',
    path: '/me',
    headers: bearer(tokens.noJti),
    status: 200,
    after: 401,
    challenge: invalid,
  },
  {
    case: 'a token in the query string too',
    path: `/me?access_token=${good}`,
    headers: bearer(good),
    status: 200,
    after: 400,
  },
  {
    case: "an expired token, seen by the guard's own handleRequest",
    path: '/explained',
    headers: bearer(tokens.expired),
    status: 401,
    why: {
      before: 'TokenExpiredError: jwt expired',
      after: 'InvalidTokenError: token rejected: expired',
    },
  },
  {
    case: "no token, seen by the guard's own handleRequest",
    path: '/explained',
    headers: {},
    status: 401,
    why: {
      before: 'Error: No auth token',
      after: 'MissingTokenError: no access token in the request',
    },
  },
  {
    case: 'a bad token, then a valid API key',
    path: '/either',
    headers: { ...bearer(tokens.badSignature), 'x-api-key': 'reports-job-key' },
    status: 200,
    answer: { client: 'reports-job' },
  },
  {
    case: 'no token, then a valid API key',
    path: '/either',
    headers: { 'x-api-key': 'reports-job-key' },
    status: 200,
    answer: { client: 'reports-job' },
  },
  {
    case: 'a valid token before the API key strategy',
    path: '/either',
    headers: bearer(good),
    status: 200,
    answer: claims,
  },
  {
    case: 'a bad token and an unknown API key',
    path: '/either',
    headers: { ...bearer(tokens.expired), 'x-api-key': 'guess' },
    status: 401,
    challenge: invalid,
  },
  {
    case: 'a valid token in the cookie',
    path: '/from-cookie',
    headers: { cookie: `theme=dark; access_token=${good}` },
    status: 200,
    answer: claims,
  },
  {
    case: 'an expired token in the cookie',
    path: '/from-cookie',
    headers: { cookie: `access_token=${tokens.expired}` },
    status: 401,
    challenge: invalid,
  },
  {
    case: 'the header, where the cookie is expected',
    path: '/from-cookie',
    headers: bearer(good),
    status: 401,
    challenge: 'Bearer',
  },
  {
    case: "a public route of the docs' isPublic guard",
    path: '/shop/catalog',
    headers: {},
    status: 200,
    answer: { items: ['tea'] },
  },
  {
    case: "a route of the docs' isPublic guard, no token",
    path: '/shop/orders',
    headers: {},
    status: 401,
    challenge: 'Bearer',
  },
  {
    case: "a route of the docs' isPublic guard, a valid token",
    path: '/shop/orders',
    headers: bearer(good),
    status: 200,
  },
];

describe.each(ADAPTERS)('examples/migration, before and after, on %s', (adapter) => {
  let jwks: JwksServer;
  const apps: Record<'before' | 'after', Service> = {} as never;

  beforeAll(async () => {
    ensureBuild();
    jwks = await new JwksServer().start();
    jwks.keys = [key.publicJwk];
    for (const app of ['before', 'after'] as const) {
      const port = await freePort();
      apps[app] = new Service(
        `${app} (${adapter})`,
        `http://127.0.0.1:${port}`,
        MIGRATION_EXAMPLE_MAIN,
        { APP: app, ADAPTER: adapter, ISSUER, JWKS_URI: jwks.uri, AUDIENCE, PORT: String(port) },
        ROOT,
      );
    }
    await Promise.all([apps.before.ready(), apps.after.ready()]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([apps.before?.kill(), apps.after?.kill()]);
    await jwks?.stop();
  });

  const ask = async (app: Service, row: Row) => {
    const response = await fetch(`${app.url}${row.path}`, { headers: row.headers });
    const text = await response.text();
    return {
      status: response.status,
      challenge: response.headers.get('www-authenticate'),
      body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
    };
  };

  it.each(ROWS)('$case', async (row) => {
    const before = await ask(apps.before, row);
    const after = await ask(apps.after, row);
    expect(before.status).toBe(row.status);
    expect(after.status).toBe(row.after ?? row.status);
    if (row.status === 200 && row.after === undefined) {
      expect(after.body).toEqual(before.body);
      if (row.answer !== undefined) expect(before.body).toEqual(row.answer);
    }
    if (after.status === 401) expect(after.challenge).toBe(row.challenge ?? null);
    if (after.status === 400) expect(after.challenge).toBe('Bearer error="invalid_request"');
    if (row.why !== undefined) {
      expect(before.body).toEqual({ why: row.why.before });
      expect(after.body).toEqual({ why: row.why.after });
    }
  });
});
