import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { RunAs } from 'nest-tessera';
import type { OrdersServiceConfig } from '../config.js';
import { ORDERS_SERVICE_CONFIG } from './orders-config.js';
import { OrdersService } from './orders.service.js';

/**
 * A scheduled job that calls the orders domain like any other caller: as the `reports-job`
 * service identity, with `orders:read` on tenant `seller-a` and nothing more.
 */
@Injectable()
export class ReportsJob implements OnApplicationBootstrap {
  private readonly logger = new Logger('ReportsJob');

  constructor(
    private readonly orders: OrdersService,
    private readonly scheduler: SchedulerRegistry,
    @Inject(ORDERS_SERVICE_CONFIG) private readonly config: OrdersServiceConfig,
  ) {}

  onApplicationBootstrap(): void {
    const timer = setInterval(
      () =>
        void this.report().catch((error: Error) =>
          this.logger.warn(`report failed: ${error.message}`),
        ),
      this.config.reports.intervalSeconds * 1000,
    );
    this.scheduler.addInterval('orders-report', timer);
  }

  @RunAs('reports-job')
  async report(): Promise<{ tenant: string; orders: number }> {
    const tenant = 'seller-a';
    const orders = this.orders.list(tenant).length;
    this.logger.log({ event: 'orders_report', tenant, orders });
    return { tenant, orders };
  }
}
