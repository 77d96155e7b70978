import { Reflector } from '@nestjs/core';

/** Metadata set by `@Sensitive()`. */
export const SensitiveRoute = Reflector.createDecorator<true>();

/**
 * Marks a route (or every route of a controller) sensitive: its token is checked against the
 * revocation backend itself, and an outage of the backend refuses it (by default).
 * @example @Sensitive() @Scopes('orders:delete') @Delete(':id') remove() {}
 */
export const Sensitive = () => SensitiveRoute(true);
