// nest-tessera/prometheus: AuthEvents as Prometheus metrics. Needs `prom-client`, an optional
// peer loaded only here.

export {
  prometheusAuthEvents,
  TesseraMetricNames,
} from './observability/prometheus-auth-events.js';
export type { PrometheusAuthEventsOptions } from './observability/prometheus-auth-events.js';
