// After: the same strategies on Tessera's verifier (keys from the issuer's JWKS, bound to it).
import { type DynamicModule, Injectable, Module } from '@nestjs/common';
import { PassportModule, PassportStrategy } from '@nestjs/passport';
import { type AccessTokenClaims, AuthModule } from 'nest-tessera';
import { TesseraJwtStrategy } from 'nest-tessera/passport';
import { ExtractJwt } from 'passport-jwt';
import {
  AccountController,
  ApiKeyStrategy,
  cookieToken,
  type IssuerSettings,
  ShopController,
} from './routes.js';

export function afterModule({ issuer, jwksUri, audience }: IssuerSettings): DynamicModule {
  @Injectable()
  class JwtStrategy extends PassportStrategy(TesseraJwtStrategy, 'jwt') {
    validate(payload: AccessTokenClaims) {
      return payload;
    }
  }

  @Injectable()
  class CookieJwtStrategy extends PassportStrategy(TesseraJwtStrategy, 'jwt-cookie') {
    constructor() {
      super({ jwtFromRequest: ExtractJwt.fromExtractors([cookieToken]) });
    }

    validate(payload: AccessTokenClaims) {
      return payload;
    }
  }

  @Module({
    imports: [
      PassportModule,
      AuthModule.forRoot({ issuers: [{ issuer, jwksUri }], audience, globalGuard: false }),
    ],
    controllers: [AccountController, ShopController],
    providers: [JwtStrategy, CookieJwtStrategy, ApiKeyStrategy],
  })
  class AppModule {}

  return { module: AppModule };
}
