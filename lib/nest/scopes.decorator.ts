import { Reflector } from '@nestjs/core';
import { securingDecorator, type SecuringDecorator } from './secure.decorator.js';

/** Metadata set by `@Scopes()`: every listed scope is required. */
export const RequiredScopes = Reflector.createDecorator<readonly string[]>();

/**
 * Requires every listed scope. On a route it overrides its controller's; on a service method
 * (or class) every call is checked against the caller, however the method is reached.
 * @example @Scopes('orders:read') @Get() list() {}
 */
export const Scopes = (...scopes: string[]): SecuringDecorator =>
  securingDecorator('@Scopes', { scopes }, { key: RequiredScopes.KEY, value: scopes });
