// nest-tessera/passport: the verifier as a Passport strategy, for code written against
// @nestjs/passport. Needs `passport` and `@nestjs/passport`, optional peers loaded only here.

export {
  JwtPassportStrategy,
  TesseraJwtStrategy,
  type JwtFromRequest,
  type JwtPassportStrategyOptions,
} from './nest/passport-jwt.strategy.js';
