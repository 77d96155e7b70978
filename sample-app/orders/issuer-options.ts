import type { TrustedIssuerOptions } from 'nest-tessera';
import type { TrustedIssuer } from './issuers-file.js';

/** The library's options for one trusted issuer of orders, from its entry of the issuers file. */
export function trustedIssuerOptions(entry: TrustedIssuer): TrustedIssuerOptions {
  const { issuer, jwksUri, discovery, profile, audience, scopeClaims, tenantClaim } = entry;
  return {
    issuer,
    ...(discovery ? { discovery } : { jwksUri }),
    ...(profile === undefined ? {} : { profile }),
    ...(audience === undefined ? {} : { audience }),
    ...(scopeClaims === undefined ? {} : { scopeClaims }),
    ...(tenantClaim === undefined ? {} : { tenantClaim }),
  };
}
