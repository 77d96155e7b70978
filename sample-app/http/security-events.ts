import type { LoggerService } from '@nestjs/common';
import type { AuthEvents, SessionEvents } from '../../lib/index.js';

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
