import type { INestApplication } from '@nestjs/common';
import type { SampleConfig } from '../config.js';
import { createHttpApp, type HttpAppOptions } from '../http/create-app.js';
import { OrdersServiceModule } from './orders-service.module.js';

/** The orders service as a Nest application, not yet listening. */
export function createOrdersApp(
  config: SampleConfig,
  options: HttpAppOptions,
): Promise<INestApplication> {
  return createHttpApp(OrdersServiceModule.forRoot(config.orders), options);
}
