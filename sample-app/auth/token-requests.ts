import { BadRequestException } from '@nestjs/common';
import { MAX_PASSWORD_LENGTH } from './password-hash.js';
import { OAuthError } from './oauth-error.js';
import { refreshTokenFromCookies } from './refresh-cookie.js';

/** A validated `POST /auth/login` body. */
export interface LoginCredentials {
  readonly username: string;
  readonly password: string;
  readonly deviceId: string | undefined;
}

/** A validated `POST /auth/refresh`: the refresh token (cookie or body) and the device. */
export interface RefreshRequest {
  /** Unvalidated: a token of the wrong shape is refused like an unknown one. */
  readonly refreshToken: string | undefined;
  readonly deviceId: string | undefined;
}

/** A validated client-credentials request of `POST /auth/token` (RFC 6749 §4.4.2). */
export interface ClientCredentialsRequest {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The scopes asked for; `undefined`: all of the client's. */
  readonly scopes: readonly string[] | undefined;
  /** The client authenticated with HTTP Basic (then a failure carries a challenge). */
  readonly basic: boolean;
}

const MAX_NAME_LENGTH = 256;

/** `{username, password, device_id?}`, or 400. */
export function parseLoginCredentials(body: unknown): LoginCredentials {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestException('expected a JSON object {username, password, device_id?}');
  }
  const { username, password, device_id: deviceId } = body as Record<string, unknown>;
  return {
    username: boundedString('username', username, MAX_NAME_LENGTH),
    password: boundedString('password', password, MAX_PASSWORD_LENGTH),
    deviceId:
      deviceId === undefined ? undefined : boundedString('device_id', deviceId, MAX_NAME_LENGTH),
  };
}

/**
 * The refresh token of the `refresh_token` cookie or of a JSON `{refresh_token}`, and `device_id`.
 * Whatever else is sent (fields of the wrong type, a body that is no object, a token of any
 * length) names no live refresh token and is refused as one that is not (401), never as a bad
 * request; only two different refresh tokens in one request are a 400.
 */
export function parseRefreshRequest(body: unknown, cookies: string | undefined): RefreshRequest {
  // A browser sends the cookie with no body at all (read as no fields, as is a body of any other
  // type than a JSON object: bytes of another content type, an array, a string).
  const fields = isPlainObject(body) ? body : {};
  const { refresh_token: inBody, device_id: deviceId } = fields;
  if (inBody !== undefined && typeof inBody !== 'string') return NO_REFRESH_TOKEN;
  if (deviceId !== undefined && !isBoundedString(deviceId, MAX_NAME_LENGTH)) {
    return NO_REFRESH_TOKEN;
  }
  const inCookie = refreshTokenFromCookies(cookies);
  if (inBody !== undefined && inCookie !== undefined && inBody !== inCookie) {
    throw new BadRequestException('send one refresh token, in the cookie or in the body');
  }
  return { refreshToken: inBody ?? inCookie, deviceId: deviceId as string | undefined };
}

const NO_REFRESH_TOKEN: RefreshRequest = Object.freeze({
  refreshToken: undefined,
  deviceId: undefined,
});

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value)
  );
}

function isBoundedString(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength;
}

function boundedString(name: string, value: unknown, maxLength: number): string {
  if (!isBoundedString(value, maxLength)) {
    throw new BadRequestException(`${name} must be a string of 1 to ${maxLength} characters`);
  }
  return value;
}

/**
 * The token request's grant and client credentials, from a form or JSON body and an optional
 * `Authorization: Basic` header (RFC 6749 §2.3.1). Throws `OAuthError` with the §5.2 code.
 */
export function parseTokenRequest(
  body: unknown,
  authorization: string | undefined,
): ClientCredentialsRequest {
  const params = new Parameters(body);
  const grantType = params.get('grant_type');
  if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
  if (grantType !== 'client_credentials') {
    throw new OAuthError('unsupported_grant_type');
  }
  // No scope (or an empty one) asks for every scope the client holds (RFC 6749 §3.3).
  const requested = params
    .get('scope')
    ?.split(' ')
    .filter((s) => s !== '');
  const scopes = requested?.length ? requested : undefined;
  const fromBody = { clientId: params.get('client_id'), clientSecret: params.get('client_secret') };
  const basic = basicCredentials(authorization);
  if (basic !== undefined) {
    // RFC 6749 §2.3: a client uses one authentication method per request.
    if (fromBody.clientSecret !== undefined) {
      throw new OAuthError('invalid_request', 'use one client authentication method');
    }
    if (fromBody.clientId !== undefined && fromBody.clientId !== basic.clientId) {
      throw new OAuthError('invalid_request', 'client_id differs from the authenticated client');
    }
    return { ...basic, scopes, basic: true };
  }
  if (fromBody.clientId === undefined || fromBody.clientSecret === undefined) {
    throw new OAuthError('invalid_client', 'client authentication is required');
  }
  return { clientId: fromBody.clientId, clientSecret: fromBody.clientSecret, scopes, basic: false };
}

/** Request parameters: each at most once (RFC 6749 §3.2), each a bounded string. */
class Parameters {
  private readonly values: Record<string, unknown>;

  constructor(body: unknown) {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new OAuthError('invalid_request', 'expected a form or JSON body');
    }
    this.values = body as Record<string, unknown>;
  }

  get(name: string): string | undefined {
    if (!Object.hasOwn(this.values, name)) return undefined;
    const value = this.values[name];
    if (typeof value !== 'string' || value.length > MAX_PASSWORD_LENGTH) {
      throw new OAuthError('invalid_request', `${name} must be given once, as a string`);
    }
    return value;
  }
}

function basicCredentials(
  authorization: string | undefined,
): { clientId: string; clientSecret: string } | undefined {
  if (authorization === undefined || !/^basic /i.test(authorization)) return undefined;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  try {
    if (colon < 1) throw new URIError('no client id');
    // RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
    const clientId = decodeURIComponent(decoded.slice(0, colon).replaceAll('+', ' '));
    const clientSecret = decodeURIComponent(decoded.slice(colon + 1).replaceAll('+', ' '));
    return { clientId, clientSecret };
  } catch {
    throw new OAuthError('invalid_request', 'malformed Basic credentials');
  }
}
