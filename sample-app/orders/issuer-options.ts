import type { TrustedIssuerOptions } from 'nest-tessera';
import { ConfigError } from '../config.js';
import type { TrustedIssuer } from './issuers-file.js';

/** The fields of an issuers file that this version of the library does not take per issuer yet. */
const NOT_YET_PASSED = {
  profile: 'profile',
  audience: 'audience',
  scopeClaims: 'scope_claims',
  tenantClaim: 'tenant_claim',
} as const;

/**
 * The library's options for one trusted issuer of orders. An entry asking for what the library
 * cannot do yet stops orders rather than being half honoured: a tenant read from `tid` instead of
 * the `tenant_claim` asked for, or the default audience instead of the issuer's own, would let
 * through tokens the file meant to refuse.
 */
export function trustedIssuerOptions(entry: TrustedIssuer, index: number): TrustedIssuerOptions {
  for (const [name, field] of Object.entries(NOT_YET_PASSED)) {
    if (entry[name as keyof typeof NOT_YET_PASSED] !== undefined) {
      const where = `entry ${index} (issuer ${JSON.stringify(entry.issuer)})`;
      throw new ConfigError(
        `ORDERS_ISSUERS_FILE ${where}: field "${field}" is not supported by the library yet`,
      );
    }
  }
  return entry.discovery
    ? { issuer: entry.issuer, discovery: true }
    : { issuer: entry.issuer, jwksUri: entry.jwksUri };
}
