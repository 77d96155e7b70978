import { ConfigurableModuleBuilder, type ConfigurableModuleAsyncOptions } from '@nestjs/common';
import type { AuthModuleOptions } from '../options/auth-options.js';

/** `AuthModule.forRoot()`'s argument: the options, and whether the module is global. */
export type AuthModuleRootOptions = AuthModuleOptions & {
  /** Registers the module globally, so feature modules need not import it. @default true */
  isGlobal?: boolean;
};

/** `AuthModule.forRootAsync()`'s argument: a factory, class or existing provider of the options. */
export type AuthModuleAsyncOptions = ConfigurableModuleAsyncOptions<AuthModuleOptions, 'create'> & {
  /** Registers the module globally, so feature modules need not import it. @default true */
  isGlobal?: boolean;
};

export const {
  ConfigurableModuleClass: ConfigurableAuthModule,
  MODULE_OPTIONS_TOKEN: AUTH_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<AuthModuleOptions>({ moduleName: 'Auth' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, { isGlobal }) => ({
    ...definition,
    global: isGlobal,
  }))
  .build();

/** Injection token of the resolved (validated, defaulted) options. */
export const AUTH_OPTIONS = Symbol('AuthOptions');
