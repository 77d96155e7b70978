import type { HttpServer } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  currentContext,
  runInContext,
  type CallContext,
  type DeniedListener,
} from '../authorization/principal-context.js';
import { isContextOf } from './request-state.js';

type Handle = (request: IncomingMessage, response: ServerResponse, ...rest: unknown[]) => unknown;

interface FastifyLike {
  addHook(
    name: 'onRequest',
    hook: (
      request: { raw: IncomingMessage },
      reply: { raw: ServerResponse },
      done: () => void,
    ) => void,
  ): unknown;
}

/**
 * Runs every request the adapter handles inside a call context of its own, around all of it
 * (the application's middleware, whatever the global prefix, guards, interceptors, the handler
 * and its observable, exception filters, 404s), however the request arrives: the listening
 * server, a test client or serverless handler calling the Express app, Fastify's `inject`
 * (there after the application's own middleware registered before start-up).
 * Anonymous until the guard verifies the caller (`setPrincipal`), closed when the response is.
 * @returns what stops it
 */
export function openRequestContexts(adapter: HttpServer, onDenied: DeniedListener): () => void {
  const open = <T>(request: object, response: ServerResponse, run: () => T): T => {
    const context: CallContext = { identity: undefined, onDenied, request, closed: false };
    response.once('close', () => (context.closed = true));
    return runInContext(context, run);
  };
  const instance: unknown = adapter.getInstance();
  if (adapter.getType() === 'fastify') {
    // The server's requests before any of Fastify's hooks (middleware included); `inject` and
    // other callers of Fastify's routing through the first hook that meets them without one.
    const closeServer = openServerContexts(adapter.getHttpServer() as Server, open);
    let active = true;
    (instance as FastifyLike).addHook('onRequest', (request, reply, done) =>
      active && !isContextOf(currentContext(), request.raw)
        ? open(request.raw, reply.raw, done)
        : done(),
    );
    return () => {
      active = false;
      closeServer();
    };
  }
  if (adapter.getType() === 'express') {
    const app = instance as { handle: Handle };
    const handle = app.handle;
    let active = true;
    const wrapped: Handle = function (this: unknown, request, response, ...rest) {
      const run = () => handle.call(this, request, response, ...rest);
      // Another application sharing this Express app may have opened it already.
      return active && !isContextOf(currentContext(), request)
        ? open(request, response, run)
        : run();
    };
    app.handle = wrapped;
    return () => {
      active = false;
      // Put back unless another application wrapped it since (then ours only passes through).
      if (app.handle === wrapped) app.handle = handle;
    };
  }
  return openServerContexts(adapter.getHttpServer() as Server, open);
}

/** Another adapter: around the listening server's own `request` listeners. */
function openServerContexts(
  server: Server,
  open: (request: object, response: ServerResponse, run: () => void) => void,
): () => void {
  const listeners = server.listeners('request') as Handle[];
  const dispatch = function (this: Server, request: IncomingMessage, response: ServerResponse) {
    open(request, response, () => {
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
