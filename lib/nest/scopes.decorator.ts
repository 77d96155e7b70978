import { Reflector } from '@nestjs/core';

/** Metadata set by `@Scopes()`: every listed scope is required. */
export const RequiredScopes = Reflector.createDecorator<readonly string[]>();

/**
 * Requires every listed scope; on a route it overrides its controller's.
 * @example @Scopes('orders:read') @Get() list() {}
 */
export const Scopes = (...scopes: string[]) => RequiredScopes(scopes);
