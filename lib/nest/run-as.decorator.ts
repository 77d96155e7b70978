import { Reflector } from '@nestjs/core';
import { securingDecorator } from './secure.decorator.js';

/** Metadata set by `@RunAs(name)`: the service identity the method runs as. */
export const RunAsIdentity = Reflector.createDecorator<string>();

/**
 * Runs a method (typically a scheduled task or a worker entry point) as the named service
 * identity from `serviceIdentities`, so every protected service it calls checks that identity.
 * The identity is lent only to a call made outside any request, message or `runAs` (a timer,
 * start-up): a caller with an identity, or an anonymous request, keeps its own. The method
 * becomes async. Other decorators' metadata on it is kept, in any order.
 * @example @Cron('0 * * * *') @RunAs('reports-job') async hourlyReport() {}
 */
export const RunAs = (identity: string): MethodDecorator =>
  securingDecorator(
    '@RunAs',
    { runAs: identity },
    { key: RunAsIdentity.KEY, value: identity },
    { methodsOnly: true },
  );
