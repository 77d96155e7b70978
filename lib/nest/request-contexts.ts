import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  runInContext,
  type CallContext,
  type DeniedListener,
} from '../authorization/principal-context.js';

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Runs every request the server receives inside a call context of its own, around the
 * adapter's whole handling (every middleware, whatever the global prefix, guards, interceptors,
 * the handler and its observable, exception filters, 404s): anonymous until the guard verifies
 * the caller (`setPrincipal`), closed when the response is. Nothing a request runs is ever taken
 * for code outside any request, where `@RunAs` lends its identity.
 * @returns what puts the server's own listeners back
 */
export function openRequestContexts(server: Server, onDenied: DeniedListener): () => void {
  const listeners = server.listeners('request') as RequestListener[];
  const dispatch = function (
    this: Server,
    request: IncomingMessage,
    response: ServerResponse,
  ): void {
    const context: CallContext = { identity: undefined, onDenied, request, closed: false };
    response.once('close', () => (context.closed = true));
    runInContext(context, () => {
      for (const listener of listeners) listener.call(this, request, response);
    });
  };
  server.removeAllListeners('request');
  server.on('request', dispatch);
  return () => {
    server.off('request', dispatch);
    for (const listener of listeners) server.on('request', listener);
  };
}
