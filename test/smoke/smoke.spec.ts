import 'reflect-metadata';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import request from 'supertest';
import * as jose from 'jose';

@Injectable()
class Svc { hello() { return 'hi'; } }
@Controller()
class C { constructor(private readonly s: Svc) {} @Get('x') x() { return { v: this.s.hello() }; } }
@Module({ controllers: [C], providers: [Svc] })
class M {}

describe('smoke', () => {
  it('express', async () => {
    const mod = await Test.createTestingModule({ imports: [M] }).compile();
    const app = mod.createNestApplication();
    await app.init();
    await request(app.getHttpServer()).get('/x').expect(200, { v: 'hi' });
    await app.close();
    expect(typeof jose.jwtVerify).toBe('function');
  });
  it('fastify', async () => {
    const mod = await Test.createTestingModule({ imports: [M] }).compile();
    const app = mod.createNestApplication(new FastifyAdapter());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    await request(app.getHttpServer()).get('/x').expect(200, { v: 'hi' });
    await app.close();
  });
});
