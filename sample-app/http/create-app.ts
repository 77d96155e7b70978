import type { DynamicModule, INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { HttpAdapterName } from '../config.js';
import { requestLog } from './request-log.middleware.js';

/** Request bodies over this size are refused with 413 before anything reads them. */
export const BODY_LIMIT_BYTES = 100 * 1024;

/** How an HTTP service of the sample app is built. */
export interface HttpAppOptions {
  /** @default 'express' */
  readonly adapter?: HttpAdapterName;
  /** Application and access logs. */
  readonly logger: LoggerService;
}

/**
 * A Nest application of `module` on the chosen adapter, with the same behaviour on both: a
 * 100 KiB body limit (413), JSON and form bodies, and the JSON access log of every request.
 */
export async function createHttpApp(
  module: DynamicModule,
  { adapter = 'express', logger }: HttpAppOptions,
): Promise<INestApplication> {
  // abortOnError off: a failing start-up throws to the caller, which reports it in one line,
  // instead of Nest aborting the process.
  const common = { logger, abortOnError: false } as const;
  if (adapter === 'fastify') {
    const app = await NestFactory.create<NestFastifyApplication>(
      module,
      new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }),
      common,
    );
    // middie runs this at onRequest, before body parsing: a 400 or 413 is logged as well.
    app.use(requestLog(logger));
    // A body of any other type is read too (as bytes nobody uses), so that the limit holds for
    // every body, not only for JSON and forms (Fastify would answer 415 without reading it); and
    // a declared length over the limit is refused on any method (Fastify reads no GET body).
    const fastify = app.getHttpAdapter().getInstance();
    // JSON as Express reads it: an empty body is no body, any JSON value is parsed (a route that
    // wants an object says so), `__proto__` and `constructor` keys are dropped; only bytes that
    // are not JSON get 400.
    const json = fastify.getDefaultJsonParser('remove', 'remove');
    app.useBodyParser('application/json', { bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) =>
      body.length === 0
        ? done(null, undefined)
        : json(request as Parameters<typeof json>[0], body.toString('utf8'), done),
    );
    fastify.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES },
      (_request, body, done) => done(null, body),
    );
    fastify.addHook('onRequest', (request, reply, done) => {
      const declared = Number(request.headers['content-length'] ?? 0);
      if (!(declared > BODY_LIMIT_BYTES)) return done();
      void reply.code(413).send({
        statusCode: 413,
        error: 'Payload Too Large',
        message: 'Request body is too large',
      });
    });
    return app;
  }
  const app = await NestFactory.create<NestExpressApplication>(module, new ExpressAdapter(), {
    ...common,
    bodyParser: false,
  });
  app.disable('x-powered-by');
  // Registered before the body parsers, so that a refused body is logged like any request.
  app.use(requestLog(logger));
  // Any JSON value, not only objects and arrays (as Fastify reads it): a route that wants an
  // object says so; only bytes that are not JSON get 400.
  app.useBodyParser('json', { limit: BODY_LIMIT_BYTES, strict: false });
  app.useBodyParser('urlencoded', { limit: BODY_LIMIT_BYTES, extended: false });
  // A body of any other type, or of none, is read too (as bytes nobody uses), so that the limit
  // holds for every body, not only for JSON and forms.
  app.useBodyParser('raw', { limit: BODY_LIMIT_BYTES, type: () => true });
  return app;
}
