import { errorWithCause } from '../util/error-message.js';
import { isSecureUrl } from '../util/secure-url.js';
import { boundedText } from './bounded-body.js';
import { jwksUriProblem } from './jwks-uri.js';

/** Largest metadata document accepted: real ones are a few KiB. */
const MAX_METADATA_BYTES = 64 * 1024;

/** What one reading of an issuer's metadata came to. */
export type MetadataResult =
  | { readonly ok: true; readonly metadataUri: string; readonly jwksUri: string }
  | { readonly ok: false; readonly metadataUri: string; readonly error: Error };

/**
 * Where an issuer's metadata is looked for, in order, each only when the one before answered
 * 404: OpenID Connect Discovery 1.0 §4 (`{issuer}/.well-known/openid-configuration`), then
 * RFC 8414 §3.1 (the well-known segment between the host and the issuer's path), then the same
 * segment after the path, which servers of issuers with a path often use instead. For an issuer
 * without a path the last two are one URL.
 */
export function metadataLocations(issuer: string): string[] {
  const url = new URL(issuer);
  const base = issuer.replace(/\/+$/, '');
  const path = url.pathname.replace(/\/+$/, '');
  return [
    ...new Set([
      `${base}/.well-known/openid-configuration`,
      `${url.origin}/.well-known/oauth-authorization-server${path}`,
      `${base}/.well-known/oauth-authorization-server`,
    ]),
  ];
}

/**
 * Reads `issuer`'s metadata for its `jwks_uri`. The metadata must name exactly `issuer` (OpenID
 * Connect Discovery §4.3, RFC 8414 §3.3: metadata served for another issuer is refused) and a
 * `jwks_uri` that a configured `jwksUri` could be. The whole reading (every location tried) is
 * abandoned after `timeoutMs`; a redirect is not followed but refused, and a body is read up to
 * 64 KiB. Never throws: a failure is a result, naming the location that caused it.
 */
export async function readIssuerMetadata(
  issuer: string,
  options: {
    readonly timeoutMs: number;
    readonly fetch?: typeof fetch;
    /** Refuse an `http:` `jwks_uri` whose host is not loopback. */
    readonly requireHttps?: boolean;
  },
): Promise<MetadataResult> {
  const doFetch = options.fetch ?? fetch;
  const locations = metadataLocations(issuer);
  let signal: AbortSignal;
  try {
    signal = AbortSignal.timeout(options.timeoutMs);
  } catch (error) {
    const failure = new Error(`${locations[0]}: ${errorWithCause(error)}`, { cause: error });
    return { ok: false, metadataUri: locations[0]!, error: failure };
  }
  for (let i = 0; ; i++) {
    const metadataUri = locations[i];
    try {
      const response = await doFetch(metadataUri, {
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal,
      });
      if (response.status === 404 && i < locations.length - 1) {
        await response.body?.cancel();
        continue;
      }
      const jwksUri = await jwksUriOf(response, issuer);
      if (options.requireHttps && !isSecureUrl(jwksUri)) {
        throw new Error("metadata's jwks_uri must be https (or http to a loopback host)");
      }
      return { ok: true, metadataUri, jwksUri };
    } catch (error) {
      const failure = new Error(`${metadataUri}: ${errorWithCause(error)}`, { cause: error });
      return { ok: false, metadataUri, error: failure };
    }
  }
}

async function jwksUriOf(response: Response, issuer: string): Promise<string> {
  if (response.status !== 200) {
    await response.body?.cancel();
    const redirect = response.status >= 300 && response.status < 400;
    throw new Error(
      `answered ${response.status}${redirect ? ' (redirects are not followed)' : ''}`,
    );
  }
  const text = await boundedText(response, MAX_METADATA_BYTES, 'metadata document');
  let metadata: unknown;
  try {
    metadata = JSON.parse(text);
  } catch {
    throw new Error('metadata is not JSON');
  }
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new Error('metadata is not a JSON object');
  }
  const { issuer: named, jwks_uri: jwksUri } = metadata as Record<string, unknown>;
  if (typeof named !== 'string') throw new Error('metadata has no issuer string');
  if (named !== issuer) {
    throw new Error(`metadata names issuer ${quote(named)}, not the configured ${quote(issuer)}`);
  }
  if (typeof jwksUri !== 'string') throw new Error('metadata has no jwks_uri string');
  const problem = jwksUriProblem(jwksUri);
  if (problem !== undefined) throw new Error(`metadata's jwks_uri ${problem}`);
  return jwksUri;
}

/** A value of the metadata for a message: quoted, and cut short. */
function quote(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
