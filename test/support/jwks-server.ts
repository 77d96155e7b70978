import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Jwk } from '../../lib/keys/jwk.js';

/** A JWKS endpoint on loopback whose keys, headers and availability a test controls. */
export class JwksServer {
  keys: Jwk[] = [];
  cacheControl: string | undefined = 'max-age=600';
  fetches = 0;
  /** Delay before answering, to test time-outs. */
  delayMs = 0;
  private server: Server | undefined;
  private port = 0;

  get uri(): string {
    return `http://127.0.0.1:${this.port}/jwks.json`;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      this.fetches++;
      const timer = setTimeout(() => {
        if (req.url !== '/jwks.json') return void res.writeHead(404).end();
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (this.cacheControl) headers['cache-control'] = this.cacheControl;
        res.writeHead(200, headers).end(JSON.stringify({ keys: this.keys }));
      }, this.delayMs);
      res.on('close', () => clearTimeout(timer));
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
}

/** A listener that records every connection: proof that nothing was fetched from it. */
export async function tripwire(): Promise<{
  url: string;
  hits: () => number;
  close: () => Promise<void>;
}> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
  });
  server.on('connection', () => hits++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/keys.json`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
