import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { InvalidTokenError, type InvalidTokenReason } from '../errors/auth-errors.js';
import type { RiskTier } from '../revocation/risk-tier.js';
import type {
  JwksFetchCause,
  JwksFetchOutcome,
  TokenDescription,
  TraceHooks,
} from '../trace-hooks.js';
import type { Awaitable } from '../util/awaitable.js';

/** The instrumentation scope name of every span and span event the library records. */
export const TRACER_NAME = 'nest-tessera';

/** Names of the spans the library starts through `@opentelemetry/api`. */
export const SpanNames = {
  /** One verification that was not answered from the verified-token cache. */
  verification: 'tessera.token.verify',
  /** One download of an issuer's JWKS. */
  jwksFetch: 'tessera.jwks.fetch',
  /** One revocation check that asks the backend (sensitive tier). */
  revocationCheck: 'tessera.revocation.check',
} as const;

/** Names of the span events the library adds to the span active at the time. */
export const SpanEventNames = {
  revocationHit: 'tessera.revocation.hit',
  revocationFailedOpen: 'tessera.revocation.fail_open',
} as const;

/** Attribute keys of those spans and events. None ever holds a token or a part of one. */
export const TraceAttributes = {
  issuer: 'tessera.token.issuer',
  alg: 'tessera.token.alg',
  kid: 'tessera.token.kid',
  cached: 'tessera.token.cached',
  /** `success` or `failure`. */
  result: 'tessera.token.result',
  /** The `InvalidTokenReason` of a rejected token. */
  rejectionReason: 'tessera.token.rejection_reason',
  jwksUri: 'tessera.jwks.uri',
  jwksCause: 'tessera.jwks.cause',
  jwksResult: 'tessera.jwks.result',
  jwksKeyCount: 'tessera.jwks.key_count',
  revocationTier: 'tessera.revocation.tier',
  /** `passed`, `revoked` or `unavailable`. */
  revocationResult: 'tessera.revocation.result',
} as const;

// Rejections caused by the server's side, not by the client's token: only these mark a
// verification span as an error (a refused forgery is the verifier working, as a 4xx is not an
// error on an HTTP server span).
const SERVER_SIDE_REASONS: ReadonlySet<InvalidTokenReason> = new Set([
  'keys_unavailable',
  'revocation_unavailable',
]);

// One tracer for the library's lifetime: the API's proxy tracer delegates to whatever SDK is
// registered, even one registered later, and asking for it on every call would allocate one.
const tracer = trace.getTracer(TRACER_NAME);

/**
 * Runs `work` inside a new span made active (so spans it starts, like a JWKS fetch, are its
 * children), then lets `finish` describe the outcome and ends the span. A synchronous `work`
 * stays synchronous. A span that records nothing (no OpenTelemetry SDK registered, or sampled
 * out) is handed to `work` without being made active: there is nothing to describe or end.
 */
function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => T | Promise<T>,
  finish: (span: Span, error: unknown) => void,
): T | Promise<T> {
  const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes });
  if (!span.isRecording()) return work(span);
  const end = (error: unknown) => {
    try {
      finish(span, error);
    } finally {
      span.end();
    }
  };
  let result: T | Promise<T>;
  try {
    result = context.with(trace.setSpan(context.active(), span), work, undefined, span);
  } catch (error) {
    end(error);
    throw error;
  }
  if (!(result instanceof Promise)) {
    end(undefined);
    return result;
  }
  return result.then(
    (value) => {
      end(undefined);
      return value;
    },
    (error: unknown) => {
      end(error);
      throw error;
    },
  );
}

/**
 * The core's trace hooks as OpenTelemetry spans through `@opentelemetry/api`, recorded by
 * whatever SDK the application registers (none: nothing is recorded).
 */
export const openTelemetryTracing: TraceHooks = {
  verification: <T>(work: (describe: (token: TokenDescription) => void) => Awaitable<T>) =>
    inSpan(
      SpanNames.verification,
      { [TraceAttributes.cached]: false },
      (span) => work((token) => describeToken(span, token)),
      endVerification,
    ),
  jwksFetch: <T>(
    uri: string,
    cause: JwksFetchCause,
    work: (report: (outcome: JwksFetchOutcome) => void) => Promise<T>,
  ) =>
    inSpan(
      SpanNames.jwksFetch,
      { [TraceAttributes.jwksUri]: uri, [TraceAttributes.jwksCause]: cause },
      (span) => work((outcome) => describeJwksFetch(span, outcome)),
      noFinish,
    ) as Promise<T>,
  revocationCheck: <T>(tier: RiskTier, work: () => Promise<T>) =>
    inSpan(
      SpanNames.revocationCheck,
      { [TraceAttributes.revocationTier]: tier },
      work,
      endRevocationCheck,
    ) as Promise<T>,
  revocationEvent: (event, tier) =>
    trace
      .getActiveSpan()
      ?.addEvent(
        event === 'hit' ? SpanEventNames.revocationHit : SpanEventNames.revocationFailedOpen,
        { [TraceAttributes.revocationTier]: tier },
      ),
};

/** Longest `kid` recorded: a forged token may carry any string there. */
const MAX_KID_LENGTH = 128;

/** The allowed `alg`, the `kid` (cut to 128 characters), the issuer when it is a trusted one. */
function describeToken(span: Span, { alg, trustedIssuer, kid }: TokenDescription): void {
  if (!span.isRecording()) return;
  span.setAttribute(TraceAttributes.alg, alg);
  if (trustedIssuer !== undefined) span.setAttribute(TraceAttributes.issuer, trustedIssuer);
  if (typeof kid === 'string') span.setAttribute(TraceAttributes.kid, kid.slice(0, MAX_KID_LENGTH));
}

function endVerification(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  if (error === undefined) {
    span.setAttribute(TraceAttributes.result, 'success');
    return;
  }
  // As at the verify boundary: anything but an InvalidTokenError is the token being malformed.
  // Neither the error's message nor its cause is recorded: a JSON parse error quotes the payload.
  const reason = error instanceof InvalidTokenError ? error.reason : 'malformed';
  span.setAttribute(TraceAttributes.result, 'failure');
  span.setAttribute(TraceAttributes.rejectionReason, reason);
  if (SERVER_SIDE_REASONS.has(reason))
    span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
}

/** Records a JWKS fetch's outcome on its span; a failure marks the span as an error. */
function describeJwksFetch(span: Span, outcome: JwksFetchOutcome): void {
  if (!span.isRecording()) return;
  span.setAttribute(TraceAttributes.jwksResult, outcome.ok ? 'success' : 'failure');
  if (outcome.keyCount !== undefined)
    span.setAttribute(TraceAttributes.jwksKeyCount, outcome.keyCount);
  if (!outcome.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error?.message });
}

function noFinish(): void {}

function endRevocationCheck(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  if (error === undefined) {
    span.setAttribute(TraceAttributes.revocationResult, 'passed');
  } else if (error instanceof InvalidTokenError && error.reason === 'revoked') {
    span.setAttribute(TraceAttributes.revocationResult, 'revoked');
  } else {
    span.setAttribute(TraceAttributes.revocationResult, 'unavailable');
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'revocation backend unavailable' });
  }
}
