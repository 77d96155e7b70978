import { Reflector } from '@nestjs/core';
import type { ThrottleLimit } from '../throttling/consumer-throttle.js';

/** Metadata set by `@Throttle()`. */
export const RouteThrottle = Reflector.createDecorator<ThrottleLimit>();
/** Metadata set by `@SkipThrottle()`. */
export const SkipThrottleRoute = Reflector.createDecorator<true>();

/**
 * A limit of its own for a route (or a controller's routes), counted apart from the consumer's
 * overall limit.
 * @example @Throttle({ limit: 5, ttlSeconds: 60 }) @Post('export') export() {}
 */
export const Throttle = (limit: ThrottleLimit) => RouteThrottle(limit);

/**
 * Leaves a route (or a controller) out of throttling, e.g. health checks.
 * @example @SkipThrottle() @Get('health') health() {}
 */
export const SkipThrottle = () => SkipThrottleRoute(true);
