/** Name of the cookie that carries the refresh token to browsers. */
export const REFRESH_COOKIE = 'refresh_token';

// HttpOnly: no script reads it (XSS cannot steal it). Secure: never sent over plain HTTP.
// SameSite=Strict: no cross-site request carries it (CSRF on /auth/refresh). Path=/auth: the
// orders service and every other path of this origin never see it.
const ATTRIBUTES = 'Path=/auth; HttpOnly; Secure; SameSite=Strict';

/** The `Set-Cookie` value that hands a refresh token to a browser for `maxAgeSeconds`. */
export function refreshCookie(token: string, maxAgeSeconds: number): string {
  const maxAge = Math.max(0, Math.floor(maxAgeSeconds));
  return `${REFRESH_COOKIE}=${token}; Max-Age=${maxAge}; ${ATTRIBUTES}`;
}

/** The `Set-Cookie` value that makes a browser drop its refresh token. */
export function clearedRefreshCookie(): string {
  return `${REFRESH_COOKIE}=; Max-Age=0; ${ATTRIBUTES}`;
}

/** The refresh token of a `Cookie` header, if it has one (the first: the most specific path's). */
export function refreshTokenFromCookies(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === REFRESH_COOKIE) {
      const value = pair.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}
