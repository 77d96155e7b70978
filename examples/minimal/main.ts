// A complete resource server: every route needs a valid access token of one trusted issuer,
// checked locally against its JWKS; /orders also needs the orders:read scope.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthModule, CurrentPrincipal, Public, Scopes, type Principal } from 'nest-tessera';

const {
  ISSUER = 'http://localhost:3000',
  JWKS_URI = 'http://localhost:3000/.well-known/jwks.json',
  AUDIENCE = 'orders-api',
  PORT = '3002',
} = process.env;

@Controller()
class OrdersController {
  @Public()
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Scopes('orders:read')
  @Get('orders')
  list(@CurrentPrincipal() principal: Principal) {
    return { owner: principal.subject, orders: [] };
  }
}

@Module({
  imports: [
    AuthModule.forRoot({ issuers: [{ issuer: ISSUER, jwksUri: JWKS_URI }], audience: AUDIENCE }),
  ],
  controllers: [OrdersController],
})
class AppModule {}

const app = await NestFactory.create(AppModule);
await app.listen(Number(PORT), '127.0.0.1');
