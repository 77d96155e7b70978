import type { Reflector } from '@nestjs/core';

/** A route's metadata targets, as `Reflector.getAllAndOverride` takes them: handler, then class. */
export type RouteTargets = Parameters<Reflector['getAllAndOverride']>[1];

/**
 * `read(targets)`, computed once per route: route metadata does not change at run time. A route
 * is its handler and its controller class together, since a handler inherited from a base
 * controller serves each subclass with that subclass's own class metadata.
 */
export function perRoute<T>(read: (targets: RouteTargets) => T): (targets: RouteTargets) => T {
  const byHandler = new WeakMap<object, WeakMap<object, T>>();
  return (targets) => {
    const [handler, controller] = targets as [object, object];
    let byController = byHandler.get(handler);
    if (byController === undefined) {
      byController = new WeakMap();
      byHandler.set(handler, byController);
    }
    let value = byController.get(controller);
    if (value === undefined) {
      value = read(targets);
      byController.set(controller, value);
    }
    return value;
  };
}
