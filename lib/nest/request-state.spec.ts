import { describe, expect, it } from '@jest/globals';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { principalFromClaims, type Principal } from '../verify/principal.js';
import { principalOf, setPrincipal } from './request-state.js';

const principal = (sub: string): Principal =>
  principalFromClaims({ iss: 'https://issuer', sub, aud: 'api', exp: 2, iat: 1, jti: sub });

/** A Node request given an app's own prototype, as Express gives each of its requests. */
function appRequest(prototype: object): IncomingMessage & { user?: unknown } {
  const request = new IncomingMessage(new Socket());
  Object.setPrototypeOf(request, prototype);
  return request;
}

describe('request state on requests with an app prototype (Express)', () => {
  it('adds no property to the request, and serves request.user from the app prototype', () => {
    const prototype = Object.create(IncomingMessage.prototype) as object;
    const alice = principal('alice');
    const first = appRequest(prototype);
    const keysBefore = Reflect.ownKeys(first);
    setPrincipal(first, alice);
    expect(Reflect.ownKeys(first)).toEqual(keysBefore);
    expect(first.user).toBe(alice);
    expect(principalOf(first)).toBe(alice);

    const other = appRequest(prototype);
    expect(other.user).toBeUndefined();
    expect(principalOf(other)).toBeUndefined();
  });

  it("keeps what other code assigns to request.user as the request's own, and overwrites it", () => {
    const prototype = Object.create(IncomingMessage.prototype) as object;
    const request = appRequest(prototype);
    setPrincipal(appRequest(prototype), principal('alice'));
    request.user = { subject: 'mallory' };
    expect(Object.hasOwn(request, 'user')).toBe(true);
    expect(request.user).toEqual({ subject: 'mallory' });
    expect(principalOf(request)).toBeUndefined();

    const bob = principal('bob');
    setPrincipal(request, bob);
    expect(request.user).toBe(bob);
    expect(principalOf(request)).toBe(bob);
  });

  it('writes its own request.user where the prototype takes no accessor', () => {
    const frozen = Object.freeze(Object.create(IncomingMessage.prototype) as object);
    const request = appRequest(frozen);
    const alice = principal('alice');
    setPrincipal(request, alice);
    expect(Object.hasOwn(request, 'user')).toBe(true);
    expect(request.user).toBe(alice);
    expect(principalOf(request)).toBe(alice);
  });
});
