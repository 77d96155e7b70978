import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { RemoteTokenRenewer } from 'nest-tessera';
import type { RequestAuthenticator } from '../../lib/authentication/request-authenticator.js';
import { ServiceIdentities } from '../../lib/authorization/service-identities.js';

// A fetch that carries a secret (a client secret, a bearer token) follows no redirect: a 307 or
// 308 would send the same request, secret and all, wherever the answer points.

interface Seen {
  readonly url: string;
  readonly authorization: string | undefined;
  readonly body: string;
}

function listen(handler: (request: IncomingMessage, body: string) => [number, object]) {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ url: request.url ?? '', authorization: request.headers.authorization, body });
      const [status, headers] = handler(request, body);
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify({ access_token: 'caught' }));
    });
  });
  return { server, seen };
}

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

describe('fetches that carry a secret follow no redirect', () => {
  const elsewhere = listen(() => [200, {}]);
  let status = 307;
  const redirecting = listen(() => [status, { location: `${urlOf(elsewhere.server)}/stolen` }]);

  beforeAll(async () => {
    for (const { server } of [elsewhere, redirecting]) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    }
  });
  afterAll(async () => {
    for (const { server } of [elsewhere, redirecting]) {
      await new Promise((resolve) => server.close(resolve));
    }
  });
  beforeEach(() => {
    elsewhere.seen.length = 0;
    redirecting.seen.length = 0;
  });

  const STATUSES = [301, 302, 303, 307, 308].map((code) => ({ code }));

  it.each(STATUSES)(
    'client credentials: a $code from the token endpoint reaches nowhere else',
    async ({ code }) => {
      status = code;
      const authenticator = {
        authenticateOwnToken: async () => {
          throw new Error('no token should get this far');
        },
      } as unknown as RequestAuthenticator;
      const identities = new ServiceIdentities(
        {
          job: {
            clientCredentials: {
              tokenEndpoint: `${urlOf(redirecting.server)}/auth/token`,
              clientId: 'reports-job',
              clientSecret: 'the-secret',
            },
          },
        },
        authenticator,
        () => Date.now() / 1000,
      );
      await expect(identities.resolve('job')).rejects.toThrow();
      expect(redirecting.seen).toHaveLength(1);
      expect(redirecting.seen[0].body).toContain('the-secret');
      expect(elsewhere.seen).toEqual([]);
    },
  );

  it.each(STATUSES)(
    'remote renewal: a $code from the renewal endpoint reaches nowhere else',
    async ({ code }) => {
      status = code;
      const renewer = new RemoteTokenRenewer({ url: `${urlOf(redirecting.server)}/auth/renew` });
      await expect(renewer.renew('the-token')).rejects.toThrow();
      expect(redirecting.seen).toHaveLength(1);
      expect(redirecting.seen[0].authorization).toBe('Bearer the-token');
      expect(elsewhere.seen).toEqual([]);
    },
  );
});
