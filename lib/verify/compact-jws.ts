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
  assertDecodable(token.length - secondDot - 1, token.charCodeAt(token.length - 1));
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

// How many low bits of a segment's last character encode nothing, by the segment's length mod 4.
const UNUSED_BITS = [0, 0, 4, 2] as const;

/**
 * Throws unless a base64url segment of `segmentLength` characters ending in `lastCharacter` can
 * come from some bytes, spelled the one way an encoder spells them. A length of 4n+1 comes from
 * none; and decoders ignore the unused low bits of the last character, so a segment with any of
 * them set is a second spelling of the same bytes: the same signature in another token string.
 */
function assertDecodable(segmentLength: number, lastCharacter: number): void {
  if (segmentLength % 4 === 1) throw new InvalidTokenError('malformed');
  const unusedMask = (1 << UNUSED_BITS[segmentLength % 4]) - 1;
  if ((base64urlValue(lastCharacter) & unusedMask) !== 0) throw new InvalidTokenError('malformed');
}

/** The 6-bit value of a base64url character (already known to be one). */
function base64urlValue(code: number): number {
  if (code === 0x2d) return 62; // '-'
  if (code === 0x5f) return 63; // '_'
  if (code >= 0x61) return code - 0x61 + 26; // 'a'-'z'
  if (code >= 0x41) return code - 0x41; // 'A'-'Z'
  return code - 0x30 + 52; // '0'-'9'
}

function decodeJsonSegment(segment: string): Record<string, unknown> {
  assertDecodable(segment.length, segment.charCodeAt(segment.length - 1));
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
