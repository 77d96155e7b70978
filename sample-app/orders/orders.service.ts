import { randomUUID } from 'node:crypto';
import { ConflictException, Injectable } from '@nestjs/common';
import { Scopes, Tenant } from 'nest-tessera';
import type { NewOrder, Order } from './order.js';

/** Orders a tenant may hold in this in-memory demo store, so that it cannot exhaust memory. */
export const MAX_ORDERS_PER_TENANT = 100_000;

/**
 * The orders domain: an in-memory store where every operation is scoped to one tenant, so an
 * order of another tenant is indistinguishable from one that does not exist. The rules live here,
 * on the domain service, so every caller passes them: HTTP handlers, the report job, consumers.
 * `@Tenant({ arg: 0 })`: the caller may only name its own tenant.
 */
@Injectable()
@Tenant({ arg: 0 })
export class OrdersService {
  private readonly byTenant = new Map<string, Map<string, Order>>();

  @Scopes('orders:read')
  list(tenant: string): Order[] {
    return [...(this.byTenant.get(tenant)?.values() ?? [])];
  }

  @Scopes('orders:create')
  create(tenant: string, { item, qty }: NewOrder): Order {
    let orders = this.byTenant.get(tenant);
    if (orders === undefined) this.byTenant.set(tenant, (orders = new Map()));
    if (orders.size >= MAX_ORDERS_PER_TENANT) {
      throw new ConflictException(
        `a tenant holds at most ${MAX_ORDERS_PER_TENANT} orders in this demo`,
      );
    }
    const order: Order = Object.freeze({ id: randomUUID(), tenant, item, qty });
    orders.set(order.id, order);
    return order;
  }

  /** The tenant's order, or `undefined` when it is missing or another tenant's. */
  @Scopes('orders:read')
  find(tenant: string, id: string): Order | undefined {
    return this.byTenant.get(tenant)?.get(id);
  }

  /** Whether the tenant had that order (another tenant's is left alone). */
  @Scopes('orders:delete')
  delete(tenant: string, id: string): boolean {
    return this.byTenant.get(tenant)?.delete(id) ?? false;
  }
}
