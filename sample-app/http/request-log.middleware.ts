import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import { principalOf, rejectionOf } from 'nest-tessera';

/** What the access log records of one request: never a header, a body or the query string. */
export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly sub?: string;
  readonly reason?: string;
}

/**
 * Raw Node middleware, the same on Express and Fastify (through middie): when the answer is sent,
 * one log line with the method, the path, the status, the latency, the verified `sub` and the
 * rejection reason. The path drops the query string, where a token may have been put by mistake.
 */
export function requestLog(logger: LoggerService) {
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    const started = performance.now();
    response.once('finish', () => {
      const entry: RequestLogEntry = {
        method: request.method ?? '',
        path: pathOf(request),
        status: response.statusCode,
        latencyMs: Math.round((performance.now() - started) * 100) / 100,
        sub: principalOf(request)?.subject,
        reason: rejectionOf(request)?.reason,
      };
      logger.log('request', entry);
    });
    next();
  };
}

function pathOf(request: IncomingMessage & { originalUrl?: string }): string {
  const url = request.originalUrl ?? request.url ?? '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
