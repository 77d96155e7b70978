import { InvalidTokenError } from '../errors/auth-errors.js';

/** The parts of a JWS compact serialization, decoded but not yet trusted. */
export interface DecodedJws {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** `base64url(header) "." base64url(payload)`: the bytes the signature covers. */
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

// Three non-empty base64url segments: anything else (padding, spaces, a fourth JWE segment,
// non-ASCII) is refused before a byte is decoded, since Node's decoder skips invalid characters.
const COMPACT_JWS = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;

/** Splits and decodes a compact JWS; throws `InvalidTokenError('malformed')`. */
export function decodeCompactJws(token: string): DecodedJws {
  if (!COMPACT_JWS.test(token)) throw new InvalidTokenError('malformed');
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  const bytes = Buffer.from(token, 'latin1');
  return {
    header: decodeJsonSegment(token.slice(0, firstDot)),
    payload: decodeJsonSegment(token.slice(firstDot + 1, secondDot)),
    signingInput: bytes.subarray(0, secondDot),
    signature: decodeSegment(token.slice(secondDot + 1)),
  };
}

function decodeSegment(segment: string): Buffer {
  // A base64url string of length 4n+1 cannot come from any byte sequence.
  if (segment.length % 4 === 1) throw new InvalidTokenError('malformed');
  return Buffer.from(segment, 'base64url');
}

function decodeJsonSegment(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decodeSegment(segment).toString('utf8'));
  } catch (cause) {
    if (cause instanceof InvalidTokenError) throw cause;
    throw new InvalidTokenError('malformed', { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidTokenError('malformed');
  }
  return value as Record<string, unknown>;
}
