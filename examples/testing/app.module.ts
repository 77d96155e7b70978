// A user's application as it runs in production: it trusts its identity provider only.
import { Controller, Get, Module } from '@nestjs/common';
import { AuthModule, CurrentPrincipal, Scopes, type Principal } from 'nest-tessera';

const issuer = 'https://login.example.com';

@Controller('orders')
export class OrdersController {
  @Scopes('orders:read')
  @Get()
  list(@CurrentPrincipal() principal: Principal) {
    return { owner: principal.subject, orders: [] };
  }
}

@Module({
  imports: [
    AuthModule.forRoot({
      issuers: [{ issuer, jwksUri: `${issuer}/.well-known/jwks.json` }],
      audience: 'orders-api',
      revocation: {},
    }),
  ],
  controllers: [OrdersController],
})
export class AppModule {}
