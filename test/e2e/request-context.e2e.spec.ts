import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  Injectable,
  type INestApplication,
  NotFoundException,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import {
  ClientProxyFactory,
  MessagePattern,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import request from 'supertest';
import { AuthModule, Public, RunAs, Scopes, Tenant } from 'nest-tessera';
import { TestIssuer } from 'nest-tessera/testing';
import { AUDIENCE } from '../support/forged-tokens.js';
import { ADAPTERS, type AdapterName } from '../support/http-app.js';
import { freePort } from '../support/redis-process.js';

// Every HTTP request runs in a call context from the server on: whatever the global prefix,
// however early the application's own middleware runs, an anonymous request is never taken for
// code outside any request, where @RunAs lends its identity.

const ran: string[] = [];

@Injectable()
class Orders {
  @Scopes('orders:delete')
  @Tenant({ arg: 0 })
  purge(tenant: string): string {
    ran.push(`purged ${tenant}`);
    return tenant;
  }
}

/** A job with every scope: lent to a request, it would purge any tenant. */
@Injectable()
class PurgeJob {
  constructor(private readonly orders: Orders) {}

  @RunAs('purger')
  async purge(tenant: string): Promise<string> {
    return this.orders.purge(tenant);
  }
}

/** Reports a 404 through the job: an anonymous request reaches it. */
@Catch(NotFoundException)
class ReportingFilter implements ExceptionFilter {
  constructor(private readonly job: PurgeJob) {}

  async catch(_error: NotFoundException, host: ArgumentsHost): Promise<void> {
    const outcome = await this.job.purge('seller-b').catch((error: Error) => error.name);
    const response = host.switchToHttp().getResponse<{ status?: unknown; code?: unknown }>();
    const reply = (response.status ?? response.code) as (status: number) => {
      send(body: unknown): void;
    };
    reply.call(response, 404).send({ outcome });
  }
}

@Controller('health')
class HealthController {
  @Public()
  @Get()
  health() {
    return { status: 'ok' };
  }
}

/** A message handler with a rule, in an app that connects its microservice without the guard. */
@Controller()
class PurgeConsumer {
  @Scopes('orders:delete')
  @MessagePattern('orders.purge')
  purge(): string {
    ran.push('purged by message');
    return 'purged';
  }
}

const issuer = TestIssuer.create({ audience: AUDIENCE, alg: 'EdDSA' });
const auth = () =>
  AuthModule.forRoot({
    issuers: [issuer.trusted],
    audience: AUDIENCE,
    serviceIdentities: {
      purger: {
        principal: { subject: 'purger', scopes: ['orders:delete'], tenant: 'seller-a' },
        crossTenant: true,
      },
    },
  });

async function appWith(adapter: AdapterName): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [auth()],
    controllers: [HealthController],
    providers: [Orders, PurgeJob, { provide: APP_FILTER, useClass: ReportingFilter }],
  }).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  app.setGlobalPrefix('api', { exclude: ['health'] });
  // The application's own middleware, before anything of Nest's.
  app.use((req: { url?: string }, _res: unknown, next: () => void) => {
    if (req.url?.includes('purge-early') !== true) return next();
    const job = app.get(PurgeJob);
    void job.purge('seller-b').then(
      () => next(),
      () => next(),
    );
  });
  await app.init();
  if (adapter === 'fastify') await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe.each(ADAPTERS)('the request call context (%s)', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await appWith(adapter);
  });
  afterAll(() => app?.close());

  it.each(['/nowhere', '/api/nowhere'])(
    'never lends @RunAs to an exception filter of an anonymous 404 (%s)',
    async (path) => {
      ran.length = 0;
      const res = await request(app.getHttpServer()).get(path);
      expect(res.status).toBe(404);
      // Express answers a path outside the prefix itself, before any filter; Fastify through
      // Nest's filters, where the job is refused for want of a caller.
      if (!(adapter === 'express' && path === '/nowhere')) {
        expect(res.body).toEqual({ outcome: 'MissingTokenError' });
      }
      expect(ran).toEqual([]);
    },
  );

  it('never lends @RunAs to a request that does not come through the listening server', async () => {
    ran.length = 0;
    if (adapter === 'express') {
      // A test client or a serverless handler calling the Express app itself.
      const res = await request(app.getHttpAdapter().getInstance()).get('/api/nowhere');
      expect(res.body).toEqual({ outcome: 'MissingTokenError' });
    } else {
      // Fastify's routing called by a server of its own, as inject() and serverless handlers do.
      const fastify = app.getHttpAdapter().getInstance() as {
        routing(request: IncomingMessage, response: ServerResponse): void;
      };
      const server = createServer((req, res) => fastify.routing(req, res));
      const res = await request(server).get('/api/nowhere');
      expect(res.body).toEqual({ outcome: 'MissingTokenError' });
    }
    expect(ran).toEqual([]);
  });

  it("never lends @RunAs to the application's own early middleware", async () => {
    ran.length = 0;
    await request(app.getHttpServer()).get('/health?purge-early=1').expect(200);
    expect(ran).toEqual([]);
  });
});

describe('a hybrid app that connects its microservice without the guard', () => {
  let app: INestApplication;
  let client: ClientProxy;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [auth()],
      controllers: [PurgeConsumer],
      providers: [Orders, PurgeJob],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    const port = await freePort();
    // Nest's default: the app's global guard and interceptors do not apply to these handlers.
    app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await app.startAllMicroservices();
    await app.init();
    client = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
    });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await app?.close();
  });

  it('refuses a protected message handler a message with no token reaches', async () => {
    ran.length = 0;
    await expect(firstValueFrom(client.send('orders.purge', {}))).rejects.toBeDefined();
    expect(ran).toEqual([]);
    // With a valid token it is still refused: no guard verified it, there is no caller.
    const token = issuer.token({ scope: 'orders:delete' });
    const message = { metadata: { authorization: `Bearer ${token}` } };
    await expect(firstValueFrom(client.send('orders.purge', message))).rejects.toBeDefined();
    expect(ran).toEqual([]);
  });
});

describe('two applications on one Express app', () => {
  it('keep the context of the one still running when the other closes', async () => {
    const first = await appWith('express');
    const moduleRef = await Test.createTestingModule({
      imports: [auth()],
      controllers: [HealthController],
      providers: [Orders, PurgeJob, { provide: APP_FILTER, useClass: ReportingFilter }],
    }).compile();
    const shared = first.getHttpAdapter().getInstance() as ConstructorParameters<
      typeof ExpressAdapter
    >[0];
    const second = moduleRef.createNestApplication(new ExpressAdapter(shared), { logger: false });
    await second.init();
    try {
      await first.close();
      ran.length = 0;
      const res = await request(second.getHttpAdapter().getInstance()).get('/nowhere');
      expect(res.body).toEqual({ outcome: 'MissingTokenError' });
      expect(ran).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
