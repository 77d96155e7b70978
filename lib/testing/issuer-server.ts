import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The documents an issuer serves, read at each request (so a rotation is served at once). */
export interface IssuerDocuments {
  /** The JWKS document. */
  jwks(): object;
  /** OpenID Connect discovery / RFC 8414 metadata. */
  metadata(): object;
}

const METADATA_PATHS = new Set([
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server',
]);

/** A listening issuer server on loopback. */
export interface IssuerServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  /** How many times its JWKS was asked for. */
  readonly jwksRequests: number;
  close(): Promise<void>;
}

/** Serves `documents` on 127.0.0.1 on a free port, GET only; anything else is 404 or 405. */
export async function listenIssuer(documents: IssuerDocuments): Promise<IssuerServer> {
  let jwksRequests = 0;
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const document =
      path === '/.well-known/jwks.json'
        ? (jwksRequests++, documents.jwks())
        : METADATA_PATHS.has(path)
          ? documents.metadata()
          : undefined;
    if (document === undefined) return void response.writeHead(404).end();
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return void response.writeHead(405, { allow: 'GET, HEAD' }).end();
    }
    response
      .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' })
      .end(JSON.stringify(document));
  });
  // Keep-alive sockets of a verifier's fetch would otherwise hold `close()` open.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get jwksRequests() {
      return jwksRequests;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
