import { NO_TRACING, type TraceHooks } from '../trace-hooks.js';

/**
 * The trace hooks of this process: OpenTelemetry spans when `@opentelemetry/api` (an optional
 * peer) is installed, else none. Loaded once per module instance at start-up, never before.
 */
export async function loadTracing(): Promise<TraceHooks> {
  try {
    const { openTelemetryTracing } = await import('./tracing.js');
    return openTelemetryTracing;
  } catch (error) {
    if (isMissingPackage(error, '@opentelemetry/api')) return NO_TRACING;
    throw error;
  }
}

function isMissingPackage(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${name}'`)
  );
}
