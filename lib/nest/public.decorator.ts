import { Reflector } from '@nestjs/core';

/** Metadata set by `@Public()`. */
export const PublicRoute = Reflector.createDecorator<true>();

/**
 * Opts a route or a controller out of the global bearer guard.
 * @example @Public() @Get('health') health() {}
 */
export const Public = () => PublicRoute(true);
