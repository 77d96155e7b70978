// Before: passport-jwt, with the issuer's keys from jwks-rsa.
import { type DynamicModule, Injectable, Module } from '@nestjs/common';
import { PassportModule, PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy } from 'passport-jwt';
import {
  AccountController,
  ApiKeyStrategy,
  cookieToken,
  type IssuerSettings,
  ShopController,
} from './routes.js';

export function beforeModule({ issuer, jwksUri, audience }: IssuerSettings): DynamicModule {
  const verification = {
    secretOrKeyProvider: passportJwtSecret({ jwksUri, cache: true, rateLimit: true }),
    issuer,
    audience,
    algorithms: ['RS256' as const],
  };

  @Injectable()
  class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
    constructor() {
      super({ ...verification, jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken() });
    }

    validate(payload: { sub: string }) {
      return payload;
    }
  }

  @Injectable()
  class CookieJwtStrategy extends PassportStrategy(Strategy, 'jwt-cookie') {
    constructor() {
      super({ ...verification, jwtFromRequest: ExtractJwt.fromExtractors([cookieToken]) });
    }

    validate(payload: { sub: string }) {
      return payload;
    }
  }

  @Module({
    imports: [PassportModule],
    controllers: [AccountController, ShopController],
    providers: [JwtStrategy, CookieJwtStrategy, ApiKeyStrategy],
  })
  class AppModule {}

  return { module: AppModule };
}
