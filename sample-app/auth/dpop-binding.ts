import { dpopRequestUrl, type DpopCarrier, type DpopProofVerifier } from 'nest-tessera';
import { OAuthError } from './oauth-error.js';

/**
 * The thumbprint of the DPoP key a token request proves (RFC 9449 §5), or `undefined` when it
 * sends no `DPoP` header. A header that is there but not a valid proof for this request is a
 * 400 `invalid_dpop_proof`: never an unbound token instead. The URL a proof names is `http://`
 * + the request's `Host` + its path (the sample serves plain HTTP).
 */
export async function provenKey(
  proofs: DpopProofVerifier | null,
  request: DpopCarrier,
): Promise<string | undefined> {
  const header = request.headers.dpop;
  if (header === undefined) return undefined;
  if (proofs === null) throw new OAuthError('invalid_dpop_proof', 'DPoP is not supported');
  try {
    const proof = await proofs.verify({
      proof: header,
      method: request.method ?? 'POST',
      url: dpopRequestUrl(request, []),
      // A replayed token request still needs the client's credentials or refresh token, and the
      // token it gets is bound to a key the replayer does not hold: while Redis is down, this
      // instance's own memory of proofs is enough.
      onOutage: 'fail-open',
    });
    return proof.jkt;
  } catch (error) {
    throw new OAuthError('invalid_dpop_proof', (error as Error).message);
  }
}
