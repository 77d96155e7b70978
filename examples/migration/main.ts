// Serves before.ts or after.ts (APP) on Express or Fastify (ADAPTER), for the side-by-side test
// of docs/migration-from-passport.md.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterModule } from './after.js';
import { beforeModule } from './before.js';

const {
  APP = 'after',
  ADAPTER = 'express',
  ISSUER = 'http://localhost:3000',
  JWKS_URI = 'http://localhost:3000/.well-known/jwks.json',
  AUDIENCE = 'orders-api',
  PORT = '3003',
} = process.env;

const settings = { issuer: ISSUER, jwksUri: JWKS_URI, audience: AUDIENCE };
const module = APP === 'before' ? beforeModule(settings) : afterModule(settings);
const app =
  ADAPTER === 'fastify'
    ? await NestFactory.create(module, new FastifyAdapter(), { logger: ['error'] })
    : await NestFactory.create(module, { logger: ['error'] });
await app.listen(Number(PORT), '127.0.0.1');
