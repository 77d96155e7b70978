import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import { Scopes, Tenant } from 'nest-tessera';
import { parseNewOrder, type Order } from './order.js';
import { OrdersService } from './orders.service.js';

/**
 * The orders API. The global bearer guard answers 401 (token) and 403 (scope) first; `@Tenant()`
 * refuses a token bound to no tenant (403); the service scopes every look-up to the tenant (404).
 */
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get()
  @Scopes('orders:read')
  list(@Tenant() tenant: string): Order[] {
    return this.orders.list(tenant);
  }

  @Post()
  @Scopes('orders:create')
  create(@Tenant() tenant: string, @Body() body: unknown): Order {
    return this.orders.create(tenant, parseNewOrder(body));
  }

  @Get(':id')
  @Scopes('orders:read')
  get(@Tenant() tenant: string, @Param('id') id: string): Order {
    const order = this.orders.find(tenant, id);
    if (order === undefined) throw new NotFoundException('no such order');
    return order;
  }

  @Delete(':id')
  @Scopes('orders:delete')
  @HttpCode(204)
  remove(@Tenant() tenant: string, @Param('id') id: string): void {
    if (!this.orders.delete(tenant, id)) throw new NotFoundException('no such order');
  }
}
