import { Controller, Get } from '@nestjs/common';
import { AuthModule, CurrentPrincipal } from 'nest-tessera';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { InvalidTokenError } from '../../lib/errors/auth-errors.js';
import {
  openTelemetryTracing,
  SpanEventNames,
  SpanNames,
  TraceAttributes,
  TRACER_NAME,
} from '../../lib/observability/tracing.js';
import type { TrustedIssuerOptions } from '../../lib/options/auth-options.js';
import { resolveAuthOptions } from '../../lib/options/resolve-auth-options.js';
import { MemoryRevocationStore } from '../../lib/revocation/memory-revocation-store.js';
import { RevocationChecker } from '../../lib/revocation/revocation-checker.js';
import { RevocationUnavailableError } from '../../lib/revocation/revocation-store.js';
import { createTokenVerifier } from '../../lib/options/create-token-verifier.js';
import type { Principal } from '../../lib/verify/principal.js';
import type { TokenVerifier } from '../../lib/verify/token-verifier.js';
import { AUDIENCE, ISSUER } from '../support/forged-tokens.js';
import { ADAPTERS, createHttpApp } from '../support/http-app.js';
import { JwksServer } from '../support/jwks-server.js';
import { b64url, forge, makeKey, validClaims, validToken } from '../support/keys.js';

const NOW = 1_700_000_000;
const key = makeKey('ES256');
const attacker = makeKey('ES256');

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  trace.disable();
  context.disable();
  await provider.shutdown();
});
beforeEach(() => exporter.reset());

function verifierFor(issuer: TrustedIssuerOptions): TokenVerifier {
  return createTokenVerifier(
    resolveAuthOptions({
      issuers: [issuer],
      audience: AUDIENCE,
      now: () => NOW,
      jwks: { timeoutMs: 2000 },
    }),
    openTelemetryTracing,
  );
}

const spansNamed = (name: string): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((span) => span.name === name);

/** Every string an exported span carries: name, attributes, events, status message. */
function stringsOf(spans: readonly ReadableSpan[]): string[] {
  return spans.flatMap((span) => [
    span.name,
    span.status.message ?? '',
    ...Object.values(span.attributes).map(String),
    ...span.events.flatMap((event) => [
      event.name,
      ...Object.values(event.attributes ?? {}).map(String),
    ]),
  ]);
}

/** Neither the token nor any of its three parts appears anywhere in what was exported. */
function expectNoTokenIn(spans: readonly ReadableSpan[], token: string): void {
  const secrets = [token, ...token.split('.').filter((part) => part.length >= 8)];
  for (const text of stringsOf(spans)) {
    for (const secret of secrets) expect(text.includes(secret)).toBe(false);
  }
}

async function rejectionOf(verifier: TokenVerifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
  } catch (error) {
    return (error as InvalidTokenError).reason;
  }
  return 'accepted';
}

describe('tracing of token verification', () => {
  const verifier = verifierFor({ issuer: ISSUER, keys: [key.publicJwk] });

  it('records a verified token as one span with issuer, alg, kid and result; a cache hit adds none', async () => {
    const token = validToken(key, NOW);
    await verifier.verify(token);
    await verifier.verify(token);

    const spans = spansNamed(SpanNames.verification);
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span.instrumentationScope.name).toBe(TRACER_NAME);
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(span.attributes).toEqual({
      [TraceAttributes.cached]: false,
      [TraceAttributes.issuer]: ISSUER,
      [TraceAttributes.alg]: 'ES256',
      [TraceAttributes.kid]: key.kid,
      [TraceAttributes.result]: 'success',
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expectNoTokenIn(exporter.getFinishedSpans(), token);
  });

  it.each([
    [
      'bad_signature',
      forge({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' }, validClaims(NOW), { key: attacker }),
      { [TraceAttributes.issuer]: ISSUER, [TraceAttributes.kid]: key.kid },
    ],
    ['expired', validToken(key, NOW - 3600), { [TraceAttributes.issuer]: ISSUER }],
    // An issuer nobody trusts is not recorded: the attribute holds only configured values.
    ['issuer_mismatch', validToken(key, NOW, { iss: 'https://evil.test' }), {}],
    [
      'malformed',
      `${b64url({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })}.${b64url('{"sub": "not json')}.c2lnbmF0dXJlLWJ5dGVz`,
      {},
    ],
  ])(
    'records the refusal of a token (%s) with its reason, never the token',
    async (reason, token, known) => {
      expect(await rejectionOf(verifier, token)).toBe(reason);

      const [span] = spansNamed(SpanNames.verification);
      expect(span.attributes).toMatchObject({
        [TraceAttributes.result]: 'failure',
        [TraceAttributes.rejectionReason]: reason,
        ...known,
      });
      if (!(TraceAttributes.issuer in known)) {
        expect(span.attributes[TraceAttributes.issuer]).toBeUndefined();
      }
      // A refused token is the verifier doing its job, as a 4xx is not an error of a server span.
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(span.events).toEqual([]);
      expectNoTokenIn(exporter.getFinishedSpans(), token);
    },
  );

  it('records a kid of any length cut to 128 characters', async () => {
    const kid = 'k'.repeat(1000);
    const token = forge({ alg: 'ES256', kid, typ: 'at+jwt' }, validClaims(NOW), { key });
    expect(await rejectionOf(verifier, token)).toBe('unknown_kid');
    const [span] = spansNamed(SpanNames.verification);
    expect(span.attributes[TraceAttributes.kid]).toBe('k'.repeat(128));
  });
});

describe('tracing of JWKS fetches', () => {
  let server: JwksServer;
  beforeEach(async () => {
    server = await new JwksServer().start();
    server.keys = [key.publicJwk];
  });
  afterEach(() => server.stop());

  it('records the download as a child span of the verification that needed it', async () => {
    const verifier = verifierFor({ issuer: ISSUER, jwksUri: server.uri });
    const token = validToken(key, NOW);
    await verifier.verify(token);

    const [verification] = spansNamed(SpanNames.verification);
    const [fetch] = spansNamed(SpanNames.jwksFetch);
    expect(fetch.parentSpanContext?.spanId).toBe(verification.spanContext().spanId);
    expect(fetch.attributes).toEqual({
      [TraceAttributes.jwksUri]: server.uri,
      [TraceAttributes.jwksCause]: 'initial',
      [TraceAttributes.jwksResult]: 'success',
      [TraceAttributes.jwksKeyCount]: 1,
    });
    expect(fetch.status.code).toBe(SpanStatusCode.UNSET);
    expect(verification.attributes[TraceAttributes.result]).toBe('success');
    expectNoTokenIn(exporter.getFinishedSpans(), token);
  });

  it('marks a failed download, and the verification it left without keys, as errors', async () => {
    await server.stop();
    const verifier = verifierFor({ issuer: ISSUER, jwksUri: server.uri });
    expect(await rejectionOf(verifier, validToken(key, NOW))).toBe('keys_unavailable');

    const [fetch] = spansNamed(SpanNames.jwksFetch);
    expect(fetch.attributes[TraceAttributes.jwksResult]).toBe('failure');
    expect(fetch.status.code).toBe(SpanStatusCode.ERROR);
    const [verification] = spansNamed(SpanNames.verification);
    expect(verification.attributes[TraceAttributes.rejectionReason]).toBe('keys_unavailable');
    expect(verification.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'keys_unavailable',
    });
  });
});

describe('tracing of revocation checks', () => {
  const policy = { standard: 'fail-open', sensitive: 'fail-closed' } as const;
  let store: MemoryRevocationStore;
  let principal: Principal;

  beforeEach(async () => {
    store = new MemoryRevocationStore({ now: () => NOW });
    principal = await verifierFor({ issuer: ISSUER, keys: [key.publicJwk] }).verify(
      validToken(key, NOW),
    );
    exporter.reset();
  });

  it('records a backend check (sensitive tier) as a span with its result', async () => {
    const checker = new RevocationChecker(store, policy, {}, openTelemetryTracing);
    await checker.check(principal, 'sensitive');
    await store.revokeToken(principal.tokenId, NOW + 600);
    await expect(checker.check(principal, 'sensitive')).rejects.toMatchObject({
      reason: 'revoked',
    });

    const [passed, revoked] = spansNamed(SpanNames.revocationCheck);
    expect(passed.attributes).toEqual({
      [TraceAttributes.revocationTier]: 'sensitive',
      [TraceAttributes.revocationResult]: 'passed',
    });
    expect(revoked.attributes[TraceAttributes.revocationResult]).toBe('revoked');
    expect(revoked.status.code).toBe(SpanStatusCode.UNSET);
    expect(revoked.events.map((event) => event.name)).toEqual([SpanEventNames.revocationHit]);
  });

  it('adds no span for a local check, but marks a hit on the span of the request', async () => {
    const checker = new RevocationChecker(store, policy, {}, openTelemetryTracing);
    await store.revokeToken(principal.tokenId, NOW + 600);
    trace.getTracer('test').startActiveSpan('GET /orders', (request) => {
      expect(() => checker.check(principal, 'standard')).toThrow(InvalidTokenError);
      request.end();
    });

    expect(spansNamed(SpanNames.revocationCheck)).toEqual([]);
    const [request] = spansNamed('GET /orders');
    expect(request.events).toMatchObject([
      {
        name: SpanEventNames.revocationHit,
        attributes: { [TraceAttributes.revocationTier]: 'standard' },
      },
    ]);
  });

  it('marks a fail-closed outage of the backend as an error', async () => {
    class DownStore extends MemoryRevocationStore {
      override async isRevokedStrong(): Promise<boolean> {
        throw new RevocationUnavailableError('backend down');
      }
    }
    const checker = new RevocationChecker(
      new DownStore({ now: () => NOW }),
      policy,
      {},
      openTelemetryTracing,
    );
    await expect(checker.check(principal, 'sensitive')).rejects.toMatchObject({
      reason: 'revocation_unavailable',
    });
    const [span] = spansNamed(SpanNames.revocationCheck);
    expect(span.attributes[TraceAttributes.revocationResult]).toBe('unavailable');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('tracing through the AuthModule', () => {
  @Controller()
  class WhoAmI {
    @Get('whoami')
    whoami(@CurrentPrincipal() principal: Principal): string {
      return principal.subject;
    }
  }

  it.each(ADAPTERS)(
    'records a span per verified request on %s, @opentelemetry/api being installed',
    async (adapter) => {
      const app = await createHttpApp(adapter, {
        imports: [
          AuthModule.forRoot({
            issuers: [{ issuer: ISSUER, keys: [key.publicJwk] }],
            audience: AUDIENCE,
            now: () => NOW,
          }),
        ],
        controllers: [WhoAmI],
      });
      try {
        const token = validToken(key, NOW);
        await request(app.getHttpServer())
          .get('/whoami')
          .set('authorization', `Bearer ${token}`)
          .expect(200, 'alice');
        await request(app.getHttpServer())
          .get('/whoami')
          .set(
            'authorization',
            `Bearer ${forge({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' }, validClaims(NOW), { key: attacker })}`,
          )
          .expect(401);
        const results = spansNamed(SpanNames.verification).map(
          (span) => span.attributes[TraceAttributes.result],
        );
        expect(results).toEqual(['success', 'failure']);
      } finally {
        await app.close();
      }
    },
  );
});
