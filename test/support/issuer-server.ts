import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Jwk } from '../../lib/keys/jwk.js';

/** What one path answers: a JSON value, raw text, or a handler of its own. */
export type Answer =
  | { readonly status?: number; readonly json: unknown; readonly headers?: Record<string, string> }
  | { readonly status?: number; readonly text: string; readonly headers?: Record<string, string> }
  | ((req: IncomingMessage, res: ServerResponse) => void);

export const OIDC_PATH = '/.well-known/openid-configuration';
export const RFC8414_PATH = '/.well-known/oauth-authorization-server';

/**
 * An issuer on loopback whose metadata locations, JWKS and availability a test controls: each
 * path answers what `routes` says (404 when unlisted), and `/jwks.json` the `keys`.
 */
export class IssuerServer {
  keys: Jwk[] = [];
  readonly routes = new Map<string, Answer>();
  /** Every path asked for, in order. */
  readonly requests: string[] = [];
  private server: Server | undefined;
  private port = 0;

  /** `path` is the issuer's own path (`/realms/a`), empty for an issuer at the origin. */
  constructor(private readonly path = '') {}

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get issuer(): string {
    return `${this.origin}${this.path}`;
  }

  get jwksUri(): string {
    return `${this.origin}/jwks.json`;
  }

  /** Metadata naming this issuer and its JWKS, with `overrides` (`undefined` removes a member). */
  metadata(overrides: Record<string, unknown> = {}): Answer {
    return { json: { issuer: this.issuer, jwks_uri: this.jwksUri, ...overrides } };
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '';
      this.requests.push(path);
      if (path === '/jwks.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ keys: this.keys }));
      }
      const answer = this.routes.get(path);
      if (answer === undefined) return void res.writeHead(404).end();
      if (typeof answer === 'function') return answer(req, res);
      const body = 'json' in answer ? JSON.stringify(answer.json) : answer.text;
      res
        .writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers })
        .end(body);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
    return this;
  }

  /** Stops answering (connections refused) while keeping the port for a restart. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restart(): Promise<void> {
    await this.start(this.port);
  }

  /** How many times `path` was asked for. */
  hits(path: string): number {
    return this.requests.filter((p) => p === path).length;
  }
}
