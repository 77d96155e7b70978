import { InvalidTokenError } from '../errors/auth-errors.js';

/** The parts of a JWS compact serialization, decoded but not yet trusted. */
export interface DecodedJws {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** The compact token itself: its signing input is `base64url(header) "." base64url(payload)`. */
  readonly token: string;
  /** Index of the second `.`, where the signing input ends and the signature segment begins. */
  readonly signingInputLength: number;
}

// Three non-empty base64url segments: anything else (padding, spaces, a fourth JWE segment,
// non-ASCII) is refused before a byte is decoded, since Node's decoder skips invalid characters.
const COMPACT_JWS = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;

// Decoding into one reused buffer instead of a fresh one per segment: verification is on every
// request's path, and small buffers cost allocations and garbage collection. It is only ever
// read synchronously right after it is written, so no two verifications can share it.
const scratch = Buffer.allocUnsafe(16 * 1024);

/** Splits and decodes a compact JWS; throws `InvalidTokenError('malformed')`. */
export function decodeCompactJws(token: string): DecodedJws {
  if (!COMPACT_JWS.test(token)) throw new InvalidTokenError('malformed');
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  const header = decodeJsonSegment(token.slice(0, firstDot));
  const payload = decodeJsonSegment(token.slice(firstDot + 1, secondDot));
  assertDecodable(token.length - secondDot - 1);
  return { header, payload, token, signingInputLength: secondDot };
}

/**
 * Calls `check` with the signing input and the decoded signature of `jws`. The buffers are valid
 * only during the call (they may be views of a shared scratch buffer): never keep them.
 */
export function checkJwsSignature(
  jws: DecodedJws,
  check: (signingInput: Buffer, signature: Buffer) => boolean,
): boolean {
  const { token, signingInputLength } = jws;
  const signatureSegment = token.slice(signingInputLength + 1);
  if (token.length > scratch.length) {
    return check(
      Buffer.from(token.slice(0, signingInputLength), 'latin1'),
      Buffer.from(signatureSegment, 'base64url'),
    );
  }
  // The token is ASCII (checked above), so its latin1 bytes are its bytes; the signature decodes
  // to fewer bytes than its segment has characters, so both fit side by side.
  const inputEnd = scratch.write(token, 0, signingInputLength, 'latin1');
  const signatureEnd = inputEnd + scratch.write(signatureSegment, inputEnd, 'base64url');
  return check(scratch.subarray(0, inputEnd), scratch.subarray(inputEnd, signatureEnd));
}

function assertDecodable(segmentLength: number): void {
  // A base64url string of length 4n+1 cannot come from any byte sequence.
  if (segmentLength % 4 === 1) throw new InvalidTokenError('malformed');
}

function decodeJsonSegment(segment: string): Record<string, unknown> {
  assertDecodable(segment.length);
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(segment));
  } catch (cause) {
    throw new InvalidTokenError('malformed', { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidTokenError('malformed');
  }
  return value as Record<string, unknown>;
}

function decodeUtf8(segment: string): string {
  if (segment.length > scratch.length) return Buffer.from(segment, 'base64url').toString('utf8');
  return scratch.toString('utf8', 0, scratch.write(segment, 0, 'base64url'));
}
