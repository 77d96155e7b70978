import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { AuthModuleOptions } from '../options/auth-options.js';
import { resolveAuthOptions, type ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { createTokenVerifier } from '../verify/create-token-verifier.js';
import { TokenVerifier } from '../verify/token-verifier.js';
import { AuthExceptionFilter } from './auth-exception.filter.js';
import {
  AUTH_MODULE_OPTIONS,
  AUTH_OPTIONS,
  ConfigurableAuthModule,
} from './auth.module-definition.js';
import { BearerGuard, GlobalBearerGuard } from './bearer.guard.js';

/**
 * Local verification of access tokens, the bearer guard, `@Scopes()` and RFC 6750 answers.
 * Global by default. @example AuthModule.forRoot({ issuers: [...], audience: 'orders-api' })
 */
@Module({
  providers: [
    {
      provide: AUTH_OPTIONS,
      useFactory: (options: AuthModuleOptions) => resolveAuthOptions(options),
      inject: [AUTH_MODULE_OPTIONS],
    },
    {
      provide: TokenVerifier,
      useFactory: (options: ResolvedAuthOptions) => createTokenVerifier(options),
      inject: [AUTH_OPTIONS],
    },
    BearerGuard,
    { provide: APP_GUARD, useClass: GlobalBearerGuard },
    { provide: APP_FILTER, useClass: AuthExceptionFilter },
  ],
  exports: [AUTH_OPTIONS, TokenVerifier, BearerGuard],
})
export class AuthModule extends ConfigurableAuthModule {}
