// One server of the HTTP comparison (http-compare.bench.ts starts it as a child process, with an
// IPC channel): a Nest app with one JSON route, `GET /orders` requiring scope `orders:read`, under
// one guard and on one adapter. Takes its configuration as one JSON argument, sends its URL once it
// serves, answers 'usage' with the CPU time it has used ('settle': the same, then a full garbage
// collection before the answer), and exits when the channel closes (so that it never outlives the
// benchmark, and so that `--cpu-prof` gets to write its profile).

import 'reflect-metadata';
import {
  createPublicKey,
  verify as cryptoVerify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  ForbiddenException,
  Get,
  type INestApplication,
  Injectable,
  Module,
  type Type,
  UseGuards,
} from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { readFileSync } from 'node:fs';
import { AuthModule, RevocationStore, Scopes } from 'nest-tessera';
// Internal: the verifier the module built, to time it in a loop (the package does not export it).
import { TokenVerifier } from '../lib/verify/token-verifier.js';

export type GuardId =
  | 'none'
  | 'passThrough'
  | 'signatureOnly'
  | 'tesseraCached'
  | 'tesseraContext'
  | 'tesseraUncached'
  | 'passportJwt';
export type AdapterId = 'express' | 'fastify';

export interface ServerConfig {
  readonly guard: GuardId;
  readonly adapter: AdapterId;
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
  /** Tokens revoked at start-up (`jti` and `exp`), so that revocation checks see a real list. */
  readonly revoked: readonly { readonly jti: string; readonly exp: number }[];
}

/** What a server sends its parent: its URL once it serves, then its usage when asked. */
export type ServerMessage = { readonly url: string } | ServerUsage | LoopResult;

/**
 * What a server is sent: `usage`, `settle` (see the top of the file), or a loop to time: its own
 * verification (the verifier its guard uses, or the signature-only guard's check) called back to
 * back on the tokens of `tokensFile` in turn, each a new string as a request delivers it.
 */
export type ServerRequest = 'usage' | 'settle' | { readonly loop: LoopRequest };

export interface LoopRequest {
  readonly tokensFile: string;
  readonly durationMs: number;
}

/** The CPU time (user and system) one verification took in the loop, in µs. */
export interface LoopResult {
  readonly loopMicros: number;
}

/** A server's totals so far. */
export interface ServerUsage {
  /** CPU time, user and system, in µs. */
  readonly cpuMicros: number;
  /** nest-tessera with caching off: the tokens verified, and the time verifying took in ms. */
  readonly verifications: number;
  readonly verificationMs: number;
}

// What the cache-off guard reports through its `tokenVerified` event (two clock reads per request,
// against a signature check of tens of µs): how long verification takes inside a server.
let verifications = 0;
let verificationMs = 0;
const countVerification = ({ durationMs }: { durationMs: number }) => {
  verifications++;
  verificationMs += durationMs;
};

// What every app answers on `GET /orders`, whatever its guard.
const ORDERS = [{ id: 'o-1', item: 'lamp', qty: 1 }];

@Controller('orders')
class UnguardedOrdersController {
  @Get()
  list() {
    return ORDERS;
  }
}

// The floor under every guard: what Nest itself costs to run one that admits every request (it
// awaits each guard's answer, so a guarded handler always runs a step later).
@Injectable()
class PassThroughGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Controller('orders')
class PassThroughOrdersController {
  @UseGuards(PassThroughGuard)
  @Get()
  list() {
    return ORDERS;
  }
}

// The physical floor under any verifying guard: one `crypto.verify` of the request's token, with
// the issuer's key imported once and nothing else checked (no header, claims, scopes, revocation).
// Not a guard to use: what the cache-off guard is measured against, beside the unguarded app.
function signatureOnlyGuard(check: (token: string) => boolean): Type<CanActivate> {
  @Injectable()
  class SignatureOnlyGuard implements CanActivate {
    canActivate(context: ExecutionContext): boolean {
      const { headers } = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
      if (check(headers.authorization.slice('Bearer '.length))) return true;
      throw new ForbiddenException();
    }
  }
  return SignatureOnlyGuard;
}

function signatureCheck(key: KeyObject): (token: string) => boolean {
  return (token) => {
    const lastDot = token.lastIndexOf('.');
    const input = Buffer.from(token.slice(0, lastDot), 'latin1');
    const signature = Buffer.from(token.slice(lastDot + 1), 'base64url');
    return cryptoVerify('sha256', input, key, signature);
  };
}

/** The server's own verification, for the loop: set by the cache-off and signature-only apps. */
let verifyOnce: ((token: string) => unknown) | undefined;

/** Times `verifyOnce` called back to back, the tokens in turn; CPU µs per call. */
async function timeLoop({ tokensFile, durationMs }: LoopRequest): Promise<LoopResult> {
  const verify = verifyOnce;
  if (verify === undefined) throw new Error(`${config.guard}: no verification to loop over`);
  const tokens = (JSON.parse(readFileSync(tokensFile, 'utf8')) as string[]).map((token) =>
    Buffer.from(token, 'latin1'),
  );
  const countedBefore = { verifications, verificationMs };
  let calls = 0;
  const cpuBefore = process.cpuUsage();
  const deadline = performance.now() + durationMs;
  do {
    for (let i = 0; i < 32; i++) {
      // A new string each call, as a request delivers it; a promise (a key to fetch) is awaited.
      const result = verify(tokens[calls++ % tokens.length].toString('latin1'));
      if (result instanceof Promise) await result;
    }
  } while (performance.now() < deadline);
  const { user, system } = process.cpuUsage(cpuBefore);
  // The loop's verifications are not the server's: its `tokenVerified` counts stay as they were.
  ({ verifications, verificationMs } = countedBefore);
  return { loopMicros: (user + system) / calls };
}

async function signatureOnlyModule(config: ServerConfig): Promise<Type> {
  const jwks = (await (await fetch(config.jwksUri)).json()) as { keys: JsonWebKey[] };
  const check = signatureCheck(createPublicKey({ key: jwks.keys[0], format: 'jwk' }));
  verifyOnce = check;
  const guard = signatureOnlyGuard(check);
  @Controller('orders')
  class SignatureOnlyOrdersController {
    @UseGuards(guard)
    @Get()
    list() {
      return ORDERS;
    }
  }
  @Module({ controllers: [SignatureOnlyOrdersController] })
  class SignatureOnlyBenchModule {}
  return SignatureOnlyBenchModule;
}

@Controller('orders')
class TesseraOrdersController {
  @Scopes('orders:read')
  @Get()
  list() {
    return ORDERS;
  }
}

/**
 * nest-tessera's module; `context`: every request in a call context, as when service methods
 * carry rules (here the one rule is the route's, which otherwise leaves the context off).
 */
function tesseraModule(config: ServerConfig, cached: boolean, context = false): Type {
  @Module({
    imports: [
      AuthModule.forRoot({
        issuers: [{ issuer: config.issuer, jwksUri: config.jwksUri }],
        audience: config.audience,
        algorithms: ['RS256'],
        // Revocation on, in memory: the store is filled below.
        revocation: {},
        ...(cached
          ? {}
          : { verifiedTokenCacheSize: 0, events: { tokenVerified: countVerification } }),
        ...(context && { principalContext: true }),
      }),
    ],
    controllers: [TesseraOrdersController],
  })
  class TesseraBenchModule {}
  return TesseraBenchModule;
}

// The stack as teams hand-wire it: passport-jwt with jwks-rsa's key provider, then a scope guard.
const RequireScopes = Reflector.createDecorator<readonly string[]>();

interface PassportUser {
  readonly subject: string;
  readonly scopes: readonly string[];
}

@Injectable()
class ScopesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride(RequireScopes, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (required === undefined) return true;
    const { user } = context.switchToHttp().getRequest<{ user?: PassportUser }>();
    if (required.every((scope) => user?.scopes.includes(scope))) return true;
    throw new ForbiddenException();
  }
}

@Controller('orders')
class PassportOrdersController {
  @UseGuards(AuthGuard('jwt'), ScopesGuard)
  @RequireScopes(['orders:read'])
  @Get()
  list() {
    return ORDERS;
  }
}

function passportModule(config: ServerConfig): Type {
  @Injectable()
  class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
    constructor() {
      super({
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKeyProvider: passportJwtSecret({
          jwksUri: config.jwksUri,
          cache: true,
          rateLimit: true,
          jwksRequestsPerMinute: 10,
        }),
        issuer: config.issuer,
        audience: config.audience,
        algorithms: ['RS256'],
      });
    }

    validate(payload: { sub: string; scope?: string }): PassportUser {
      return { subject: payload.sub, scopes: payload.scope?.split(' ') ?? [] };
    }
  }

  @Module({
    imports: [PassportModule],
    providers: [JwtStrategy, ScopesGuard],
    controllers: [PassportOrdersController],
  })
  class PassportBenchModule {}
  return PassportBenchModule;
}

function moduleFor(config: ServerConfig): Type | Promise<Type> {
  switch (config.guard) {
    case 'none': {
      @Module({ controllers: [UnguardedOrdersController] })
      class UnguardedBenchModule {}
      return UnguardedBenchModule;
    }
    case 'passThrough': {
      @Module({ controllers: [PassThroughOrdersController] })
      class PassThroughBenchModule {}
      return PassThroughBenchModule;
    }
    case 'signatureOnly':
      return signatureOnlyModule(config);
    case 'tesseraCached':
      return tesseraModule(config, true);
    case 'tesseraContext':
      return tesseraModule(config, true, true);
    case 'tesseraUncached':
      return tesseraModule(config, false);
    case 'passportJwt':
      return passportModule(config);
  }
}

async function serve(config: ServerConfig): Promise<INestApplication> {
  const module = await moduleFor(config);
  const app =
    config.adapter === 'fastify'
      ? await NestFactory.create(module, new FastifyAdapter(), { logger: false })
      : await NestFactory.create(module, { logger: false });
  if (config.guard.startsWith('tessera')) {
    const store = app.get<RevocationStore>(RevocationStore);
    for (const { jti, exp } of config.revoked) await store.revokeToken(jti, exp);
    const verifier = app.get(TokenVerifier);
    verifyOnce = (token) => verifier.verify(token);
  }
  await app.listen(0, '127.0.0.1');
  return app;
}

const config = JSON.parse(process.argv[2] ?? '') as ServerConfig;
const app = await serve(config);
const send = (message: ServerMessage) => process.send!(message);
process.on('message', (message: ServerRequest) => {
  if (typeof message === 'object') {
    void timeLoop(message.loop).then(send);
    return;
  }
  const { user, system } = process.cpuUsage();
  // After a cell: a full collection (the process runs with --expose-gc) before answering, so that
  // this server's clean-up does not land in the next cell's measurement of another server. The
  // answer is the CPU time used before it.
  if (message === 'settle') (globalThis as { gc?: () => void }).gc?.();
  send({ cpuMicros: user + system, verifications, verificationMs });
});
process.on('disconnect', () => {
  void app.close().then(() => process.exit(0));
});
send({ url: await app.getUrl() });
