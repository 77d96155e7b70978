import { AUTH_MODULE_OPTIONS, AUTH_OPTIONS } from '../nest/auth.module-definition.js';
import type { AuthModuleOptions, TrustedIssuerOptions } from '../options/auth-options.js';
import { resolveAuthOptions } from '../options/resolve-auth-options.js';

/**
 * What `TestIssuer.override()` needs of a testing module builder: `overrideProvider()` with a
 * factory, as `@nestjs/testing`'s `TestingModuleBuilder` has it.
 */
export interface ProviderOverridable<Builder> {
  /** Replaces the provider of `token` in every module of the testing module. */
  overrideProvider(token: string | symbol): {
    useFactory(options: {
      factory: (options: AuthModuleOptions) => unknown;
      inject: (string | symbol)[];
    }): Builder;
  };
}

/** Where an entry's keys come from: what the test issuer's entry replaces. */
const KEY_SOURCE_MEMBERS = new Set(['issuer', 'jwksUri', 'keys', 'keySource', 'discovery']);

/**
 * `builder` with `AuthModule`'s resolved options replaced by the app's own (from `forRoot` or
 * `forRootAsync`, whichever it used) with `issuers` swapped for `trusted` alone. An app's entry of
 * the same `iss` lends it its other members (how its tokens are read); every other option is
 * kept but for `overrides`, and renewal limited to named issuers renews the test issuer's tokens
 * instead.
 */
export function trustOnly<Builder>(
  builder: ProviderOverridable<Builder>,
  trusted: TrustedIssuerOptions,
  overrides: Omit<Partial<AuthModuleOptions>, 'issuers'> = {},
): Builder {
  return builder.overrideProvider(AUTH_OPTIONS).useFactory({
    factory: (options) => resolveAuthOptions(withIssuer({ ...options, ...overrides }, trusted)),
    inject: [AUTH_MODULE_OPTIONS],
  });
}

/** `options` trusting `trusted` alone (exported for its spec). */
export function withIssuer(
  options: AuthModuleOptions,
  trusted: TrustedIssuerOptions,
): AuthModuleOptions {
  const renewal = options.renewal;
  const same = Array.isArray(options.issuers)
    ? options.issuers.find((entry) => entry?.issuer === trusted.issuer)
    : undefined;
  const rules = Object.fromEntries(
    Object.entries(same ?? {}).filter(([name]) => !KEY_SOURCE_MEMBERS.has(name)),
  );
  return {
    ...options,
    issuers: [{ ...trusted, ...rules }],
    ...(renewal?.issuers === undefined
      ? {}
      : { renewal: { ...renewal, issuers: [trusted.issuer] } }),
  };
}
