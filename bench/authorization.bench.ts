// The cost of the service-layer authorization proxy: a method protected by `@Scopes` and
// `@Tenant` (checked against the principal of the call context) against the same method
// undecorated, in the same run: `npm run bench`.

import 'reflect-metadata';
import { runAs } from '../lib/authorization/principal-context.js';
import { Scopes } from '../lib/nest/scopes.decorator.js';
import { Tenant } from '../lib/nest/tenant.decorator.js';
import type { Principal } from '../lib/verify/principal.js';
import { interleavedRates, median, warmUp, type Operation } from './harness.js';

interface Order {
  readonly id: string;
  readonly tenant: string;
}

const orders = new Map<string, Order>([['o-1', { id: 'o-1', tenant: 'seller-a' }]]);

function find(tenant: string, id: string): Order | undefined {
  const order = orders.get(id);
  return order?.tenant === tenant ? order : undefined;
}

class OrdersService {
  find(tenant: string, id: string): Order | undefined {
    return find(tenant, id);
  }

  async load(tenant: string, id: string): Promise<Order | undefined> {
    return find(tenant, id);
  }
}

class GuardedOrdersService {
  @Scopes('orders:read')
  @Tenant({ arg: 0 })
  find(tenant: string, id: string): Order | undefined {
    return find(tenant, id);
  }

  @Scopes('orders:read')
  @Tenant({ arg: 0 })
  async load(tenant: string, id: string): Promise<Order | undefined> {
    return find(tenant, id);
  }
}

const principal: Principal = Object.freeze({
  subject: 'alice',
  tenant: 'seller-a',
  scopes: Object.freeze(['orders:read', 'orders:create', 'orders:delete']),
  sessionId: 's-1',
  clientId: 'sample-app',
  tokenId: 'j-1',
  issuer: 'https://auth.test',
  issuedAt: 0,
  expiresAt: Infinity,
  claims: {
    iss: 'https://auth.test',
    sub: 'alice',
    aud: 'orders-api',
    exp: Infinity,
    iat: 0,
    jti: 'j-1',
  },
});

const plain = new OrdersService();
const guarded = new GuardedOrdersService();

let sink: unknown;
const ops: Record<string, Operation> = {
  'sync, direct': { kind: 'sync', run: () => (sink = plain.find('seller-a', 'o-1')) },
  'sync, through the proxy': { kind: 'sync', run: () => (sink = guarded.find('seller-a', 'o-1')) },
  'async, direct': { kind: 'async', run: () => plain.load('seller-a', 'o-1') },
  'async, through the proxy': { kind: 'async', run: () => guarded.load('seller-a', 'o-1') },
};

async function main(): Promise<void> {
  // As in a request: the principal context is entered once, then the domain is called.
  await runAs(principal, async () => {
    const entries = Object.entries(ops);
    for (const [, op] of entries) await warmUp(op, 300);
    const rates = await interleavedRates(
      entries.map(([, op]) => op),
      { runs: 5, runMs: 400, sliceMs: 40 },
    );
    const nsPerCall = rates.map((r) => 1e9 / median(r));
    console.log('\n### Service-layer authorization proxy (ns per call, median of 5 runs)\n');
    console.log('| call | ns per call | added by the proxy |');
    console.log('| --- | ---: | ---: |');
    entries.forEach(([name], i) => {
      const added = i % 2 === 1 ? `${(nsPerCall[i] - nsPerCall[i - 1]).toFixed(0)} ns` : '';
      console.log(`| ${name} | ${nsPerCall[i].toFixed(0)} | ${added} |`);
    });
    const worst = Math.max(nsPerCall[1] - nsPerCall[0], nsPerCall[3] - nsPerCall[2]);
    console.log(
      `\nTarget: under 1 µs added per call: ${worst < 1000 ? 'met' : 'MISSED'} (${worst.toFixed(0)} ns).`,
    );
  });
  if (sink === 'never') console.log(sink);
}

await main();
