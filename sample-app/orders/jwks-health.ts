import type { KeySourceHealth } from 'nest-tessera';
import type { AuthHealthIndicator } from 'nest-tessera/terminus';
import type { HealthPart, PartProblem } from '../http/health.js';

/**
 * Whether orders can verify each trusted issuer's tokens: the library's key check, which fetches
 * a JWKS never fetched yet (at most once per `JWKS_COOLDOWN`) and counts keys kept through a later
 * outage of the endpoint.
 *
 * No issuer's keys to be had: unavailable. Some issuers but not all: degraded.
 */
export function jwksPart(auth: AuthHealthIndicator): HealthPart {
  return { part: 'jwks', check: () => auth.checkKeys('jwks'), whenDown: jwksProblem };
}

function jwksProblem(reported: Readonly<Record<string, unknown>>): PartProblem {
  const issuers = Object.entries((reported.issuers ?? {}) as Record<string, KeySourceHealth>);
  const missing = issuers.filter(([, keys]) => !keys.available).map(([issuer]) => issuer);
  if (missing.length === 0) {
    return { impact: 'unavailable', detail: String(reported.message ?? 'keys unknown') };
  }
  return {
    impact: missing.length === issuers.length ? 'unavailable' : 'degraded',
    detail: `no keys loaded and the JWKS cannot be fetched: ${missing.sort().join(', ')}`,
  };
}
