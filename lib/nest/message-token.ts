import type { Principal } from '../verify/principal.js';

/**
 * The token a message carries: `metadata.authorization` of the payload (`Bearer <token>` or the
 * bare token), or an `authorization` header of transports with headers (NATS, RabbitMQ, Kafka;
 * a Kafka header may be a Buffer).
 */
export function tokenFromMessage(data: unknown, context: unknown): string | undefined {
  const value = field(field(data, 'metadata'), 'authorization') ?? headerOf(context) ?? undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer +(\S+)$/i.exec(value.trim());
  return match ? match[1] : value.trim() || undefined;
}

function headerOf(context: unknown): unknown {
  const ctx = context as {
    getHeaders?: () => unknown;
    getMessage?: () => unknown;
  } | null;
  const headers = typeof ctx?.getHeaders === 'function' ? ctx.getHeaders() : undefined;
  const fromHeaders =
    typeof (headers as { get?: unknown })?.get === 'function'
      ? (headers as { get(name: string): unknown }).get('authorization')
      : field(headers, 'authorization');
  if (fromHeaders !== undefined && fromHeaders !== '') return fromHeaders;
  const message = typeof ctx?.getMessage === 'function' ? ctx.getMessage() : undefined;
  // RabbitMQ keeps headers under `properties`; Kafka on the message, as strings or Buffers.
  const header =
    field(field(field(message, 'properties'), 'headers'), 'authorization') ??
    field(field(message, 'headers'), 'authorization');
  return Buffer.isBuffer(header) ? header.toString('utf8') : header;
}

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === 'object'
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

const messagePrincipals = new WeakMap<object, Principal>();

/** Records the principal verified for one message (keyed by its transport context). */
export function setMessagePrincipal(context: object, principal: Principal): void {
  messagePrincipals.set(context, principal);
}

/** The principal verified for one message (keyed by its transport context). */
export function messagePrincipalOf(context: unknown): Principal | undefined {
  return typeof context === 'object' && context !== null
    ? messagePrincipals.get(context)
    : undefined;
}
