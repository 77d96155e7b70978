import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication, SetMetadata } from '@nestjs/common';
import request from 'supertest';
import { AuthModule, Scopes } from 'nest-tessera';
import { TestIssuer } from 'nest-tessera/testing';
import { ADAPTERS, createHttpApp } from '../support/http-app.js';

// `publicMetadataKey` lets the global guard honour the Nest docs' `SetMetadata(IS_PUBLIC_KEY, true)`
// as it honours `@Public()`: only `true` under that key, only when the option names it.

const IS_PUBLIC_KEY = 'isPublic';
const PublicByDocs = () => SetMetadata(IS_PUBLIC_KEY, true);

@Controller('routes')
class RoutesController {
  @PublicByDocs()
  @Get('open')
  open() {
    return { open: true };
  }

  @SetMetadata(IS_PUBLIC_KEY, 'yes')
  @Get('not-true')
  notTrue() {
    return { open: false };
  }

  @Get('closed')
  closed() {
    return { open: false };
  }
}

@Controller('public-class')
@PublicByDocs()
class PublicController {
  @Get()
  anyone() {
    return { open: true };
  }
}

const issuer = TestIssuer.create({ audience: 'api' });

async function appWith(publicMetadataKey: string | undefined, adapter: (typeof ADAPTERS)[number]) {
  return createHttpApp(adapter, {
    imports: [
      AuthModule.forRoot({
        issuers: [issuer.trusted],
        audience: 'api',
        ...(publicMetadataKey === undefined ? {} : { publicMetadataKey }),
      }),
    ],
    controllers: [RoutesController, PublicController],
  });
}

describe.each(ADAPTERS)('publicMetadataKey on %s', (adapter) => {
  describe("set to the docs' key", () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await appWith(IS_PUBLIC_KEY, adapter);
    });
    afterAll(() => app.close());

    it('lets a route marked with it through without a token', async () => {
      await request(app.getHttpServer()).get('/routes/open').expect(200, { open: true });
    });

    it('lets every route of a controller marked with it through', async () => {
      await request(app.getHttpServer()).get('/public-class').expect(200, { open: true });
    });

    it('still guards the routes without it', async () => {
      const res = await request(app.getHttpServer()).get('/routes/closed').expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      await request(app.getHttpServer())
        .get('/routes/closed')
        .set('Authorization', `Bearer ${issuer.token()}`)
        .expect(200);
    });

    it('counts only `true` under the key, not any truthy value', async () => {
      await request(app.getHttpServer()).get('/routes/not-true').expect(401);
    });
  });

  describe('not set', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await appWith(undefined, adapter);
    });
    afterAll(() => app.close());

    it("ignores the docs' metadata: the route stays guarded", async () => {
      await request(app.getHttpServer()).get('/routes/open').expect(401);
      await request(app.getHttpServer()).get('/public-class').expect(401);
    });
  });
});

describe('publicMetadataKey beside a rule', () => {
  it('stops start-up for @Scopes on a route marked public by the key, as under @Public()', async () => {
    @Controller('contradiction')
    class ContradictionController {
      @PublicByDocs()
      @Scopes('orders:read')
      @Get()
      open() {
        return { open: true };
      }
    }
    await expect(
      createHttpApp('express', {
        imports: [
          AuthModule.forRoot({
            issuers: [issuer.trusted],
            audience: 'api',
            publicMetadataKey: IS_PUBLIC_KEY,
          }),
        ],
        controllers: [ContradictionController],
      }),
    ).rejects.toThrow(/ContradictionController\.open has @Scopes under @Public\(\)/);
  });

  it('stops start-up for a controller marked public by the key under @Scopes', async () => {
    @Controller('contradiction-class')
    @PublicByDocs()
    @Scopes('orders:read')
    class ContradictionClass {
      @Get()
      open() {
        return { open: true };
      }
    }
    await expect(
      createHttpApp('express', {
        imports: [
          AuthModule.forRoot({
            issuers: [issuer.trusted],
            audience: 'api',
            publicMetadataKey: IS_PUBLIC_KEY,
          }),
        ],
        controllers: [ContradictionClass],
      }),
    ).rejects.toThrow(/ContradictionClass has @Scopes under @Public\(\)/);
  });
});
