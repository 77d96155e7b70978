import { Reflector } from '@nestjs/core';
import type { RouteTargets } from './per-route.js';

/** Metadata set by `@Public()`. */
export const PublicRoute = Reflector.createDecorator<true>();

/**
 * Opts a route or a controller out of the global bearer guard.
 * @example @Public() @Get('health') health() {}
 */
export const Public = () => PublicRoute(true);

/**
 * Whether a route is public: `@Public()` on it or its controller, or `true` there under the app's
 * `publicMetadataKey` (e.g. the Nest docs' `SetMetadata('isPublic', true)`).
 */
export function isPublicRoute(
  reflector: Reflector,
  targets: RouteTargets,
  publicMetadataKey: string | undefined,
): boolean {
  if (reflector.getAllAndOverride(PublicRoute, targets) === true) return true;
  return (
    publicMetadataKey !== undefined &&
    reflector.getAllAndOverride<unknown>(publicMetadataKey, targets) === true
  );
}

/**
 * Whether `target` (a handler or a controller class) itself is marked public: `@Public()`, or
 * `true` under the app's `publicMetadataKey`.
 */
export function markedPublic(target: object, publicMetadataKey: string | undefined): boolean {
  return (
    Reflect.getMetadata(PublicRoute.KEY, target) === true ||
    (publicMetadataKey !== undefined && Reflect.getMetadata(publicMetadataKey, target) === true)
  );
}
