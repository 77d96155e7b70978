import type { LoggerService } from '@nestjs/common';
import { combineAuthEvents, type AuthEvents } from 'nest-tessera';
import { type SessionEvents } from 'nest-tessera/issuer';

/**
 * Every library event worth an operator's attention as one JSON log line each: verification
 * failures, revocation hits, renewals, throttled requests, JWKS fetches, issuer discoveries,
 * refused service calls, and the revocation and session events below. Nothing here receives a
 * token; the fields are reasons, results, `sub`, `sid` and issuers. A successful verification is
 * no line of its own: the request's access-log line carries its `sub`, and `/metrics` counts it.
 */
export function securityEventLog(logger: LoggerService): AuthEvents & SessionEvents {
  return combineAuthEvents(
    verificationEventLog(logger),
    revocationEventLog(logger),
    sessionEventLog(logger),
  );
}

/** Verification, renewal, throttling, JWKS and discovery events as JSON log lines. */
export function verificationEventLog(logger: LoggerService): AuthEvents {
  return {
    tokenRejected: ({ error }) =>
      logger.log('token rejected', { event: 'token_rejected', reason: error.reason }),
    revocationHit: ({ principal, tier }) =>
      logger.warn('revoked token refused', {
        event: 'revocation_hit',
        sub: principal.subject,
        sid: principal.sessionId,
        tier,
      }),
    tokenRenewed: ({ result, reason }) => {
      const entry = { event: 'token_renewal', result, reason };
      if (result === 'failed') logger.warn('token renewal failed', entry);
      else logger.log('token renewal', entry);
    },
    requestThrottled: ({ tracker }) =>
      logger.warn('request throttled', { event: 'request_throttled', tracker }),
    accessDenied: ({ method, error }) =>
      logger.log('service call refused', {
        event: 'access_denied',
        method,
        reason: error.reason,
      }),
    jwksFetched: ({ issuer, ok, cause, keyCount, skipped, error, durationMs }) => {
      const entry = {
        event: 'jwks_fetch',
        issuer,
        ok,
        cause,
        keyCount,
        skipped: skipped?.length ? skipped : undefined,
        error: error?.message,
        durationMs: Math.round(durationMs * 100) / 100,
      };
      if (ok) logger.log('JWKS fetched', entry);
      else logger.warn('JWKS fetch failed: keys already known are kept', entry);
    },
    issuerDiscovered: ({ issuer, ok, cause, metadataUri, jwksUri, error, retryInSeconds }) => {
      const entry = {
        event: 'issuer_discovery',
        issuer,
        ok,
        cause,
        metadataUri,
        jwksUri,
        error: error?.message,
        retryInSeconds:
          retryInSeconds === undefined ? undefined : Math.round(retryInSeconds * 10) / 10,
      };
      if (ok) logger.log('issuer metadata read', entry);
      else logger.warn('issuer metadata unusable: its tokens are refused until it is read', entry);
    },
  };
}

/**
 * The library's revocation events as JSON log lines. A request let through while the revocation
 * list could not be checked (`revocationFailedOpen`) is a warning of its own, with a running
 * count, so an operator sees both each occurrence and how many there were.
 */
export function revocationEventLog(logger: LoggerService): AuthEvents {
  let failedOpen = 0;
  return {
    revocationFailedOpen: ({ principal, tier, error }) => {
      failedOpen += 1;
      logger.warn('revocation check failed open', {
        event: 'revocation_failed_open',
        tier,
        sub: principal.subject,
        count: failedOpen,
        error: error.message,
      });
    },
    viewStateChanged: ({ current, entries }) => {
      const message = current ? 'revocation list current' : 'revocation list unreachable';
      const event = { event: 'revocation_view', current, entries };
      if (current) logger.log(message, event);
      else logger.warn(message, event);
    },
    breakerStateChanged: ({ state }) =>
      logger.log('revocation circuit breaker', { event: 'revocation_breaker', state }),
    writeDeferred: ({ entry, error }) =>
      logger.warn('revocation kept locally until Redis is back', {
        event: 'revocation_write_deferred',
        kind: entry.kind,
        error: error.message,
      }),
  };
}

/** The session manager's events as JSON log lines: a reuse or a foreign device is a warning. */
export function sessionEventLog(logger: LoggerService): SessionEvents {
  return {
    refreshed: ({ result, sessionId }) =>
      logger.log('refresh', { event: 'refresh', result, sid: sessionId }),
    refreshReuseDetected: ({ sessionId, subject }) =>
      logger.warn('refresh token reused: session revoked', {
        event: 'refresh_reuse_detected',
        sub: subject,
        sid: sessionId,
      }),
    deviceMismatchDetected: ({ sessionId, subject }) =>
      logger.warn('refresh from another device: session revoked', {
        event: 'device_mismatch_detected',
        sub: subject,
        sid: sessionId,
      }),
  };
}
