import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication, Post } from '@nestjs/common';
import request from 'supertest';
import {
  AuthModule,
  jwkThumbprint,
  type AuthError,
  type DpopOptions,
  type TokenSourceOptions,
} from 'nest-tessera';
import { TestIssuer } from 'nest-tessera/testing';
import { dpopKey, makeProof, proofJwk, type ProofParts } from '../support/dpop.js';
import { ADAPTERS, createHttpApp } from '../support/http-app.js';
import type { TestKey } from '../support/keys.js';

@Controller()
class ItemsController {
  @Get('items')
  list() {
    return ['an item'];
  }

  @Get('items/:id')
  one() {
    return 'an item';
  }

  @Post('items')
  create() {
    return { created: true };
  }
}

const HOST = 'api.test';
const URL_ITEMS = `http://${HOST}/items`;
const ALGS = 'algs="ES256 EdDSA RS256 PS256"';

interface Harness {
  readonly app: INestApplication;
  readonly issuer: TestIssuer;
  /** The reason of each refusal, in order. */
  readonly reasons: string[];
}

async function start(
  adapter: (typeof ADAPTERS)[number],
  dpop: DpopOptions,
  tokenSources?: TokenSourceOptions,
): Promise<Harness> {
  const issuer = TestIssuer.create({ audience: 'api' });
  const reasons: string[] = [];
  const app = await createHttpApp(adapter, {
    imports: [
      AuthModule.forRoot({
        issuers: [issuer.trusted],
        audience: 'api',
        dpop,
        tokenSources,
        events: {
          requestRejected: ({ error }: { error: AuthError }) => reasons.push(error.reason),
        },
      }),
    ],
    controllers: [ItemsController],
  });
  return { app, issuer, reasons };
}

/** A token bound to `key`. */
function boundToken(issuer: TestIssuer, key: TestKey): string {
  return issuer.token({ cnf: { jkt: jwkThumbprint(key.publicJwk) } });
}

describe.each(ADAPTERS)('DPoP at a resource server on %s', (adapter) => {
  let h: Harness;
  const key = dpopKey('ES256');
  const other = dpopKey('ES256');
  let token: string;

  beforeAll(async () => {
    h = await start(adapter, {}, { headers: ['x-access-token'], bodyField: 'access_token' });
    token = boundToken(h.issuer, key);
  });
  afterAll(() => h.app.close());

  const get = (authorization: string, proofs: readonly string[] | undefined) => {
    const req = request(h.app.getHttpServer()).get('/items').set('Host', HOST);
    req.set('Authorization', authorization);
    // Two values: two header lines (RFC 9449 §4.3 allows one).
    if (proofs?.length === 1) req.set('DPoP', proofs[0]);
    else if (proofs !== undefined) req.set('DPoP', [...proofs] as unknown as string);
    return req;
  };
  const proof = (parts: Partial<ProofParts> = {}, by: TestKey = key) =>
    makeProof(by, { htm: 'GET', htu: URL_ITEMS, accessToken: token, ...parts });

  it('accepts a bound token with a proof by its key, for this request', async () => {
    const res = await get(`DPoP ${token}`, [proof()]);
    expect(res.status).toBe(200);
  });

  it('accepts each of the default algorithms', async () => {
    for (const alg of ['ES256', 'EdDSA', 'RS256', 'PS256'] as const) {
      const k = dpopKey(alg);
      const t = boundToken(h.issuer, k);
      const res = await get(`DPoP ${t}`, [
        makeProof(k, { htm: 'GET', htu: URL_ITEMS, accessToken: t }),
      ]);
      expect({ alg, status: res.status }).toEqual({ alg, status: 200 });
    }
  });

  it('ignores the query and fragment of htu and of the request', async () => {
    const res = await request(h.app.getHttpServer())
      .get('/items?page=2')
      .set('Host', HOST)
      .set('Authorization', `DPoP ${token}`)
      .set('DPoP', proof({ htu: `${URL_ITEMS}?other=1#top` }));
    expect(res.status).toBe(200);
  });

  it('keeps unbound tokens working as Bearer', async () => {
    const res = await get(`Bearer ${h.issuer.token()}`, undefined);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(['an item']);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const rsa = dpopKey('RS256');
  // Each rule of RFC 9449 §4.3, broken alone; the token is bound to `key`.
  const forged: {
    rule: string;
    proofs: () => string[] | undefined;
    error: 'invalid_dpop_proof' | 'invalid_token';
    reason: string;
  }[] = [
    { rule: 'no proof', proofs: () => undefined, error: 'invalid_dpop_proof', reason: 'missing' },
    {
      rule: 'two DPoP headers',
      proofs: () => [proof(), proof()],
      error: 'invalid_dpop_proof',
      reason: 'multiple',
    },
    {
      rule: 'a proof over 8 KiB',
      proofs: () => [proof({ payload: { pad: 'x'.repeat(8192) } })],
      error: 'invalid_dpop_proof',
      reason: 'oversized',
    },
    {
      rule: 'not a JWT',
      proofs: () => ['not-a-jwt'],
      error: 'invalid_dpop_proof',
      reason: 'malformed',
    },
    {
      rule: 'typ other than dpop+jwt',
      proofs: () => [proof({ header: { typ: 'JWT' } })],
      error: 'invalid_dpop_proof',
      reason: 'typ_mismatch',
    },
    {
      rule: 'alg none, unsigned',
      proofs: () => [proof({ header: { alg: 'none' }, signer: { none: true } })],
      error: 'invalid_dpop_proof',
      reason: 'malformed',
    },
    {
      rule: 'alg HS256, keyed with the public key',
      proofs: () => [
        proof({
          header: { alg: 'HS256' },
          signer: { hmacSecret: JSON.stringify(proofJwk(key)) },
        }),
      ],
      error: 'invalid_dpop_proof',
      reason: 'alg_not_allowed',
    },
    {
      rule: 'a private key in jwk',
      proofs: () => [proof({ header: { jwk: { ...key.privateJwk } } })],
      error: 'invalid_dpop_proof',
      reason: 'private_key',
    },
    {
      rule: 'no jwk',
      proofs: () => [proof({ header: { jwk: undefined } })],
      error: 'invalid_dpop_proof',
      reason: 'bad_jwk',
    },
    {
      rule: 'a jwk of another key type than alg',
      proofs: () => [proof({ header: { jwk: proofJwk(rsa) } })],
      error: 'invalid_dpop_proof',
      reason: 'bad_jwk',
    },
    {
      rule: "the token's key in jwk, signed by another",
      proofs: () => [proof({ signer: { key: other } })],
      error: 'invalid_dpop_proof',
      reason: 'bad_signature',
    },
    {
      rule: 'no jti',
      proofs: () => [proof({ payload: { jti: undefined } })],
      error: 'invalid_dpop_proof',
      reason: 'missing_claim',
    },
    {
      rule: 'no htm',
      proofs: () => [proof({ payload: { htm: undefined } })],
      error: 'invalid_dpop_proof',
      reason: 'missing_claim',
    },
    {
      rule: 'no htu',
      proofs: () => [proof({ payload: { htu: undefined } })],
      error: 'invalid_dpop_proof',
      reason: 'missing_claim',
    },
    {
      rule: 'no iat',
      proofs: () => [proof({ payload: { iat: undefined } })],
      error: 'invalid_dpop_proof',
      reason: 'missing_claim',
    },
    {
      rule: 'another method',
      proofs: () => [proof({ htm: 'POST' })],
      error: 'invalid_dpop_proof',
      reason: 'htm_mismatch',
    },
    {
      rule: 'another path',
      proofs: () => [proof({ htu: `http://${HOST}/orders` })],
      error: 'invalid_dpop_proof',
      reason: 'htu_mismatch',
    },
    {
      rule: 'another host',
      proofs: () => [proof({ htu: 'http://other.test/items' })],
      error: 'invalid_dpop_proof',
      reason: 'htu_mismatch',
    },
    {
      rule: 'https where the request came over http',
      proofs: () => [proof({ htu: `https://${HOST}/items` })],
      error: 'invalid_dpop_proof',
      reason: 'htu_mismatch',
    },
    {
      rule: 'iat 2 minutes old',
      proofs: () => [proof({ iat: now() - 120 })],
      error: 'invalid_dpop_proof',
      reason: 'iat_out_of_window',
    },
    {
      rule: 'iat a minute ahead',
      proofs: () => [proof({ iat: now() + 60 })],
      error: 'invalid_dpop_proof',
      reason: 'iat_out_of_window',
    },
    {
      rule: 'no ath',
      proofs: () => [proof({ accessToken: undefined })],
      error: 'invalid_dpop_proof',
      reason: 'ath_mismatch',
    },
    {
      rule: "another token's ath",
      proofs: () => [proof({ accessToken: h.issuer.token() })],
      error: 'invalid_dpop_proof',
      reason: 'ath_mismatch',
    },
    {
      rule: 'a valid proof by another key',
      proofs: () => [proof({}, other)],
      error: 'invalid_token',
      reason: 'dpop_key_mismatch',
    },
  ];

  it.each(forged)('refuses $rule: 401 $error', async ({ proofs, error, reason }) => {
    const res = await get(`DPoP ${token}`, proofs());
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`DPoP error="${error}", ${ALGS}`);
    expect(h.reasons.at(-1)).toBe(reason);
  });

  it.each([
    { host: `${HOST}/items/some-id?` },
    { host: `${HOST}/items/some-id#` },
    { host: `user@${HOST}` },
    { host: `${HOST}:80/items/some-id?` },
  ])('refuses a Host header that is not host[:port]: $host', async ({ host }) => {
    // The proof names another resource; a Host carrying a path must not make it this request's.
    const res = await request(h.app.getHttpServer())
      .get('/items')
      .set('Host', host)
      .set('Authorization', `DPoP ${token}`)
      .set('DPoP', proof({ htu: `http://${HOST}/items/some-id` }));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`DPoP error="invalid_dpop_proof", ${ALGS}`);
    expect(h.reasons.at(-1)).toBe('htu_mismatch');
  });

  it('accepts a Host with a port when htu names it', async () => {
    const res = await request(h.app.getHttpServer())
      .get('/items')
      .set('Host', `${HOST}:8080`)
      .set('Authorization', `DPoP ${token}`)
      .set('DPoP', proof({ htu: `http://${HOST}:8080/items` }));
    expect(res.status).toBe(200);
  });

  it.each([{ path: '/items/%2e%2e' }, { path: '/items/..' }, { path: '/items/%2E.' }])(
    'refuses a path that URL parsing would change: $path',
    async ({ path }) => {
      // Parsed as a URL the path would be `/`: a proof for `/` must not pass for this route.
      const res = await request(h.app.getHttpServer())
        .get(path)
        .set('Host', HOST)
        .set('Authorization', `DPoP ${token}`)
        .set('DPoP', proof({ htu: `http://${HOST}/` }));
      expect(res.status).toBe(401);
      expect(h.reasons.at(-1)).toBe('htu_mismatch');
    },
  );

  it('compares a dot-segment htu normalized, against the path as received', async () => {
    const res = await get(`DPoP ${token}`, [proof({ htu: `http://${HOST}/other/../items` })]);
    expect(res.status).toBe(200);
  });

  it('refuses a proof replayed, even on another route of the same URL', async () => {
    const once = proof();
    expect((await get(`DPoP ${token}`, [once])).status).toBe(200);
    const again = await get(`DPoP ${token}`, [once]);
    expect(again.status).toBe(401);
    expect(again.headers['www-authenticate']).toBe(`DPoP error="invalid_dpop_proof", ${ALGS}`);
    expect(h.reasons.at(-1)).toBe('replayed');
  });

  it('refuses a bound token sent as Bearer, even with a valid proof', async () => {
    const res = await get(`Bearer ${token}`, [proof()]);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`DPoP error="invalid_token", ${ALGS}`);
    expect(h.reasons.at(-1)).toBe('dpop_bound_as_bearer');
  });

  it('refuses a bound token in the other token sources, even with a valid proof', async () => {
    // The sources are configured: an unbound token is accepted there.
    const plain = await request(h.app.getHttpServer())
      .get('/items')
      .set('Host', HOST)
      .set('X-Access-Token', h.issuer.token());
    expect(plain.status).toBe(200);
    const inHeader = await request(h.app.getHttpServer())
      .get('/items')
      .set('Host', HOST)
      .set('X-Access-Token', token)
      .set('DPoP', proof());
    expect(inHeader.status).toBe(401);
    expect(h.reasons.at(-1)).toBe('dpop_bound_as_bearer');
    const inBody = await request(h.app.getHttpServer())
      .post('/items')
      .set('Host', HOST)
      .set('DPoP', proof({ htm: 'POST' }))
      .send({ access_token: token });
    expect(inBody.status).toBe(401);
    expect(h.reasons.at(-1)).toBe('dpop_bound_as_bearer');
  });

  it('refuses an unbound token under the DPoP scheme', async () => {
    const unbound = h.issuer.token();
    const res = await get(`DPoP ${unbound}`, [proof({ accessToken: unbound })]);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`DPoP error="invalid_token", ${ALGS}`);
  });

  it('keeps exactly the Bearer challenge for a request without a token, bearer tokens accepted', async () => {
    const res = await request(h.app.getHttpServer()).get('/items');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('keeps the Bearer challenge alone for a bad bearer token', async () => {
    const res = await get(`Bearer ${h.issuer.token({}, { expiresIn: -60 })}`, undefined);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('answers a malformed DPoP credential with 400 invalid_request', async () => {
    const res = await get(`DPoP ${token} extra`, [proof()]);
    expect(res.status).toBe(400);
  });
});

describe.each(ADAPTERS)('DPoP required on %s', (adapter) => {
  let h: Harness;
  beforeAll(async () => (h = await start(adapter, { required: true })));
  afterAll(() => h.app.close());

  it('refuses an unbound token as Bearer with a DPoP challenge', async () => {
    const res = await request(h.app.getHttpServer())
      .get('/items')
      .set('Authorization', `Bearer ${h.issuer.token()}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`DPoP error="invalid_token", ${ALGS}`);
    expect(h.reasons.at(-1)).toBe('dpop_required');
  });

  it('challenges a request without a token with DPoP only', async () => {
    const res = await request(h.app.getHttpServer()).get('/items');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`DPoP ${ALGS}`);
  });

  it('still accepts a bound token with its proof', async () => {
    const key = dpopKey('EdDSA');
    const token = boundToken(h.issuer, key);
    const res = await request(h.app.getHttpServer())
      .post('/items')
      .set('Host', HOST)
      .set('Authorization', `DPoP ${token}`)
      .set('DPoP', makeProof(key, { htm: 'POST', htu: URL_ITEMS, accessToken: token }));
    expect(res.status).toBe(201);
  });
});

describe.each(ADAPTERS)('DPoP required of one issuer on %s', (adapter) => {
  let app: INestApplication;
  const strict = TestIssuer.create({ issuer: 'https://strict.test', audience: 'api' });
  const lenient = TestIssuer.create({ issuer: 'https://lenient.test', audience: 'api' });
  beforeAll(async () => {
    app = await createHttpApp(adapter, {
      imports: [
        AuthModule.forRoot({
          issuers: [strict.trusted, lenient.trusted],
          audience: 'api',
          dpop: { required: [strict.issuer] },
        }),
      ],
      controllers: [ItemsController],
    });
  });
  afterAll(() => app.close());

  it("refuses that issuer's unbound tokens and accepts the other's", async () => {
    const send = (token: string) =>
      request(app.getHttpServer()).get('/items').set('Authorization', `Bearer ${token}`);
    const refused = await send(strict.token());
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe(`DPoP error="invalid_token", ${ALGS}`);
    expect((await send(lenient.token())).status).toBe(200);
  });

  it('keeps exactly the Bearer challenge for a request without a token: bearer tokens are accepted', async () => {
    const res = await request(app.getHttpServer()).get('/items');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });
});

describe.each(ADAPTERS)('DPoP required of every trusted issuer by name on %s', (adapter) => {
  let app: INestApplication;
  const first = TestIssuer.create({ issuer: 'https://first.test', audience: 'api' });
  const second = TestIssuer.create({ issuer: 'https://second.test', audience: 'api' });
  beforeAll(async () => {
    app = await createHttpApp(adapter, {
      imports: [
        AuthModule.forRoot({
          issuers: [first.trusted, second.trusted],
          audience: 'api',
          dpop: { required: [first.issuer, second.issuer] },
        }),
      ],
      controllers: [ItemsController],
    });
  });
  afterAll(() => app.close());

  it('challenges a request without a token with DPoP only: no bearer token is accepted', async () => {
    const res = await request(app.getHttpServer()).get('/items');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`DPoP ${ALGS}`);
    for (const issuer of [first, second]) {
      const bearer = await request(app.getHttpServer())
        .get('/items')
        .set('Authorization', `Bearer ${issuer.token()}`);
      expect(bearer.status).toBe(401);
    }
  });
});

describe.each(ADAPTERS)('DPoP off on %s', (adapter) => {
  let app: INestApplication;
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = TestIssuer.create({ audience: 'api' });
    app = await createHttpApp(adapter, {
      imports: [AuthModule.forRoot({ issuers: [issuer.trusted], audience: 'api' })],
      controllers: [ItemsController],
    });
  });
  afterAll(() => app.close());

  it('refuses a bound token as Bearer: the binding is never dropped', async () => {
    const res = await request(app.getHttpServer())
      .get('/items')
      .set('Authorization', `Bearer ${boundToken(issuer, dpopKey())}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });
});

describe.each(ADAPTERS)('DPoP server nonces on %s', (adapter) => {
  let h: Harness;
  beforeAll(async () => (h = await start(adapter, { nonce: { secret: 'n'.repeat(32) } })));
  afterAll(() => h.app.close());

  it('asks for a nonce with use_dpop_nonce and DPoP-Nonce, then accepts it', async () => {
    const key = dpopKey();
    const token = boundToken(h.issuer, key);
    const send = (nonce?: string) =>
      request(h.app.getHttpServer())
        .get('/items')
        .set('Host', HOST)
        .set('Authorization', `DPoP ${token}`)
        .set('DPoP', makeProof(key, { htm: 'GET', htu: URL_ITEMS, accessToken: token, nonce }));
    const first = await send();
    expect(first.status).toBe(401);
    expect(first.headers['www-authenticate']).toBe(`DPoP error="use_dpop_nonce", ${ALGS}`);
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toMatch(/\S{10,}/);
    expect((await send('a-made-up-nonce')).status).toBe(401);
    expect((await send(nonce)).status).toBe(200);
  });
});
