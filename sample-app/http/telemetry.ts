import type { LoggerService } from '@nestjs/common';
import { Registry } from 'prom-client';
import { combineAuthEvents, type AuthEvents } from 'nest-tessera';
import { type SessionEvents } from 'nest-tessera/issuer';
import { prometheusAuthEvents } from 'nest-tessera/prometheus';
import { securityEventLog } from './security-events.js';

/** Injection token of a service's own Prometheus `Registry`. */
export const METRICS_REGISTRY = Symbol('MetricsRegistry');

/** Where a service's library events go: its `/metrics` and its JSON log. */
export interface ServiceTelemetry {
  /**
   * The service's own registry, not prom-client's global one: the two services of `npm start`
   * (and the apps of a test) share a process, and each serves only its own counters.
   */
  readonly registry: Registry;
  /** The Prometheus counters, one JSON log line per event, and any further listeners. */
  readonly events: AuthEvents & SessionEvents;
}

/** A fresh registry fed by the library's events, which are also logged through `logger`. */
export function serviceTelemetry(
  logger: LoggerService,
  ...listeners: readonly (AuthEvents & SessionEvents)[]
): ServiceTelemetry {
  const registry = new Registry();
  const events = combineAuthEvents(
    prometheusAuthEvents(registry),
    securityEventLog(logger),
    ...listeners,
  );
  return { registry, events };
}
