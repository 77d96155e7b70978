// The optional Prometheus integration, published as `nest-tessera/prometheus`. It is the only
// module that imports `prom-client`: the main entry never loads it, so applications without
// Prometheus need not install it.

import {
  Counter,
  Gauge,
  Histogram,
  register as defaultRegistry,
  type Metric,
  type Registry,
  type RegistryContentType,
} from 'prom-client';
import { AuthConfigError } from '../errors/auth-errors.js';
import type { AuthEvents } from '../events.js';
import type { SessionEvents } from '../session/session-manager.js';
import { combineAuthEvents } from './combine-events.js';

/** Options of `prometheusAuthEvents`. */
export interface PrometheusAuthEventsOptions {
  /**
   * Upper bounds, in seconds, of the buckets of `tessera_token_verification_duration_seconds`.
   * A cached verification takes about a microsecond, an uncached one tens of microseconds, one
   * that waits for a JWKS download milliseconds or more.
   * @default [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025, 0.1, 0.5, 2.5]
   */
  readonly verificationDurationBuckets?: readonly number[];
}

/** The names of the metrics `prometheusAuthEvents` registers. */
export const TesseraMetricNames = {
  /** Counter `{result: success|failure, reason}`; `reason` is `none` on success. */
  tokenVerifications: 'tessera_token_verifications_total',
  /** Histogram `{cached: true|false}` of successful verifications, in seconds. */
  tokenVerificationDuration: 'tessera_token_verification_duration_seconds',
  /** Counter: revoked tokens refused. */
  revocationHits: 'tessera_revocation_hits_total',
  /** Counter `{result: renewed|skipped|failed|timeout}`. */
  tokenRenewals: 'tessera_token_renewals_total',
  /** Counter: requests refused with 429. */
  throttledRequests: 'tessera_throttled_requests_total',
  /** Counter `{result: rotated|invalid|reused|device_mismatch}` (issuer side). */
  refresh: 'tessera_refresh_total',
  /** Counter: retired refresh tokens presented again (their session was revoked). */
  refreshReuseDetected: 'tessera_refresh_reuse_detected_total',
  /** Counter: refreshes from another device than the session's (the session was revoked). */
  refreshDeviceMismatchDetected: 'tessera_refresh_device_mismatch_detected_total',
  /** Counter `{status, reason}`: HTTP requests refused, whatever the cause. */
  requestsRejected: 'tessera_requests_rejected_total',
  /** Counter `{reason}`: calls into protected service methods refused. */
  accessDenied: 'tessera_access_denied_total',
  /** Counter `{issuer, result: success|failure}`: JWKS downloads. */
  jwksFetches: 'tessera_jwks_fetches_total',
  /** Counter `{issuer, result: success|failure}`: readings of an issuer's metadata (discovery). */
  issuerDiscoveries: 'tessera_issuer_discoveries_total',
  /** Counter `{tier}`: requests let through while the revocation backend could not be asked. */
  revocationFailOpen: 'tessera_revocation_fail_open_total',
  /** Counter: revocations kept locally to be written when the backend is back. */
  revocationWritesDeferred: 'tessera_revocation_writes_deferred_total',
  /** Gauge `{state: closed|open|half-open}`: 1 for the breaker's current state, 0 otherwise. */
  revocationBreakerState: 'tessera_revocation_breaker_state',
  /** Gauge: 1 while the local revocation view is current, 0 while it is stale. */
  revocationViewCurrent: 'tessera_revocation_view_current',
} as const;

const DEFAULT_BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025, 0.1, 0.5, 2.5,
];
type BreakerState = Parameters<NonNullable<AuthEvents['breakerStateChanged']>>[0]['state'];

const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half-open'];
const RENEWAL_RESULTS = ['renewed', 'skipped', 'failed', 'timeout'] as const;
const REFRESH_RESULTS = ['rotated', 'invalid', 'reused', 'device_mismatch'] as const;

/**
 * `AuthEvents` and `SessionEvents` that count into Prometheus metrics (names in
 * `TesseraMetricNames`) in `registry`, prom-client's default registry unless given. Calling it
 * again on the same registry reuses the metrics already there, so several modules of one process
 * can each ask for it; give each service its own `Registry` when several run in one process and
 * each serves its own `/metrics`. Labels carry reasons and results, never a token or a subject.
 *
 * A token refused for revocation passed verification first: it counts as a verification
 * `success`, then in `tessera_revocation_hits_total` and, for an HTTP request, in
 * `tessera_requests_rejected_total{reason="revoked"}`.
 *
 * @example
 * const metrics = prometheusAuthEvents(registry);
 * AuthModule.forRoot({ ...options, events: combineAuthEvents(metrics, accessLog) });
 */
export function prometheusAuthEvents(
  registry: Registry<RegistryContentType> = defaultRegistry,
  options: PrometheusAuthEventsOptions = {},
): AuthEvents & SessionEvents {
  const m = createMetrics(registry, options);
  return combineAuthEvents({
    tokenVerified: ({ cached, durationMs }) => {
      m.verifications.inc({ result: 'success', reason: 'none' });
      m.duration.observe({ cached: String(cached) }, durationMs / 1000);
    },
    tokenRejected: ({ error }) => m.verifications.inc({ result: 'failure', reason: error.reason }),
    revocationHit: () => m.revocationHits.inc(),
    revocationFailedOpen: ({ tier }) => m.failOpen.inc({ tier }),
    tokenRenewed: ({ result }) => m.renewals.inc({ result }),
    requestThrottled: () => m.throttled.inc(),
    requestRejected: ({ error }) =>
      m.rejected.inc({ status: String(error.status), reason: error.reason }),
    accessDenied: ({ error }) => m.accessDenied.inc({ reason: error.reason }),
    jwksFetched: ({ issuer, ok }) =>
      m.jwksFetches.inc({ issuer, result: ok ? 'success' : 'failure' }),
    issuerDiscovered: ({ issuer, ok }) =>
      m.discoveries.inc({ issuer, result: ok ? 'success' : 'failure' }),
    breakerStateChanged: ({ state }) => {
      for (const s of BREAKER_STATES) m.breakerState.set({ state: s }, s === state ? 1 : 0);
    },
    viewStateChanged: ({ current }) => m.viewCurrent.set(current ? 1 : 0),
    writeDeferred: () => m.writesDeferred.inc(),
    refreshed: ({ result }) => m.refresh.inc({ result }),
    refreshReuseDetected: () => m.reuse.inc(),
    deviceMismatchDetected: () => m.deviceMismatch.inc(),
  });
}

function createMetrics(
  registry: Registry<RegistryContentType>,
  options: PrometheusAuthEventsOptions,
) {
  const n = TesseraMetricNames;
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    existing(registry, name, Counter) ??
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    existing(registry, name, Gauge) ??
    new Gauge<L>({ name, help, labelNames, registers: [registry] });

  const metrics = {
    verifications: counter(n.tokenVerifications, 'Access tokens verified, by result and reason.', [
      'result',
      'reason',
    ]),
    duration:
      existing(registry, n.tokenVerificationDuration, Histogram) ??
      new Histogram({
        name: n.tokenVerificationDuration,
        help: 'Time to verify an access token that passed, from the cache or not.',
        labelNames: ['cached'],
        buckets: [...(options.verificationDurationBuckets ?? DEFAULT_BUCKETS)],
        registers: [registry],
      }),
    revocationHits: counter(n.revocationHits, 'Revoked access tokens refused.'),
    renewals: counter(n.tokenRenewals, 'Access-token renewals, by result.', ['result']),
    throttled: counter(n.throttledRequests, 'Requests refused with 429 Too Many Requests.'),
    refresh: counter(n.refresh, 'Refresh-token uses, by result.', ['result']),
    reuse: counter(n.refreshReuseDetected, 'Retired refresh tokens presented again.'),
    deviceMismatch: counter(
      n.refreshDeviceMismatchDetected,
      'Refreshes from another device than the session was opened on.',
    ),
    rejected: counter(n.requestsRejected, 'Requests refused, by HTTP status and reason.', [
      'status',
      'reason',
    ]),
    accessDenied: counter(n.accessDenied, 'Calls into protected service methods refused.', [
      'reason',
    ]),
    jwksFetches: counter(n.jwksFetches, 'JWKS downloads, by issuer and result.', [
      'issuer',
      'result',
    ]),
    discoveries: counter(
      n.issuerDiscoveries,
      "Readings of an issuer's metadata for its jwks_uri, by issuer and result.",
      ['issuer', 'result'],
    ),
    failOpen: counter(
      n.revocationFailOpen,
      'Requests let through while the revocation backend could not be asked.',
      ['tier'],
    ),
    writesDeferred: counter(
      n.revocationWritesDeferred,
      'Revocations kept locally until the backend is back.',
    ),
    breakerState: gauge(
      n.revocationBreakerState,
      "The revocation backend's circuit breaker: 1 for its current state.",
      ['state'],
    ),
    viewCurrent: gauge(
      n.revocationViewCurrent,
      '1 while the local revocation view is current, 0 while it is stale.',
    ),
  };
  // Series of known label values start at zero, so rate() sees their first increment.
  metrics.verifications.inc({ result: 'success', reason: 'none' }, 0);
  for (const result of RENEWAL_RESULTS) metrics.renewals.inc({ result }, 0);
  for (const result of REFRESH_RESULTS) metrics.refresh.inc({ result }, 0);
  return metrics;
}

/** The metric `name` already in `registry`, when it is of the expected kind. */
function existing<T extends Metric>(
  registry: Registry<RegistryContentType>,
  name: string,
  kind: abstract new (...args: never[]) => T,
): T | undefined {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return undefined;
  if (metric instanceof kind) return metric;
  throw new AuthConfigError(`metric ${name} is already registered as another type`);
}
