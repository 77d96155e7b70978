// What a move from passport-jwt to Tessera leaves as it is: controllers, guards (the Nest docs'
// `isPublic` guard, a `handleRequest` of your own), other Passport strategies. before.ts and
// after.ts differ only in where the `jwt` strategies' tokens are verified.
import {
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  Req,
  SetMetadata,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import passport from 'passport';

/** Where the tokens come from, and for whom they must be. */
export interface IssuerSettings {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audience: string;
}

/** passport-jwt's extractor for a cookie, without a cookie parser. */
export const cookieToken = (request: { headers: { cookie?: string } }): string | null =>
  /(?:^|;\s*)access_token=([^;]+)/.exec(request.headers.cookie ?? '')?.[1] ?? null;

/** Another way in: an API key in `X-Api-Key`, tried after the token by `AuthGuard(['jwt', 'api-key'])`. */
class ApiKeyHeaderStrategy extends passport.Strategy {
  constructor(
    private readonly check: (key: string, done: (error: unknown, user?: unknown) => void) => void,
  ) {
    super();
  }

  override authenticate(request: { headers: Record<string, unknown> }): void {
    const key = request.headers['x-api-key'];
    if (typeof key !== 'string') return this.fail({ message: 'No API key' }, 401);
    this.check(key, (error, user) =>
      error
        ? this.error(error)
        : user
          ? this.success(user)
          : this.fail({ message: 'Unknown API key' }, 401),
    );
  }
}

@Injectable()
export class ApiKeyStrategy extends PassportStrategy(ApiKeyHeaderStrategy, 'api-key') {
  validate(key: string) {
    return key === 'reports-job-key' ? { client: 'reports-job' } : false;
  }
}

export const IS_PUBLIC_KEY = 'isPublic';
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);

/** The Nest docs' guard: `AuthGuard('jwt')`, except on routes marked `@Public()`. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    return super.canActivate(context);
  }
}

/** A guard of one's own that says why a request was refused, from Passport's `info`. */
@Injectable()
export class ExplainingGuard extends AuthGuard('jwt') {
  override handleRequest<User>(error: unknown, user: User, info: unknown): User {
    if (error || !user) {
      throw new UnauthorizedException({
        why: info instanceof Error ? `${info.name}: ${info.message}` : null,
      });
    }
    return user;
  }
}

type WithUser = { user: unknown };

@Controller()
export class AccountController {
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @UseGuards(AuthGuard('jwt'))
  @Get('me')
  me(@Req() request: WithUser) {
    return request.user;
  }

  @UseGuards(ExplainingGuard)
  @Get('explained')
  explained(@Req() request: WithUser) {
    return request.user;
  }

  @UseGuards(AuthGuard(['jwt', 'api-key']))
  @Get('either')
  either(@Req() request: WithUser) {
    return request.user;
  }

  @UseGuards(AuthGuard('jwt-cookie'))
  @Get('from-cookie')
  fromCookie(@Req() request: WithUser) {
    return request.user;
  }
}

@Controller('shop')
@UseGuards(JwtAuthGuard)
export class ShopController {
  @Public()
  @Get('catalog')
  catalog() {
    return { items: ['tea'] };
  }

  @Get('orders')
  orders(@Req() request: WithUser) {
    return { owner: (request.user as { sub: string }).sub, orders: [] };
  }
}
