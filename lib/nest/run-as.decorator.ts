import { runAs } from '../authorization/principal-context.js';
import { serviceIdentities } from '../authorization/service-identities.js';

type AsyncMethod = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Runs a method (typically a scheduled task or a worker entry point) as the named service
 * identity from `serviceIdentities`, so every protected service it calls checks that identity.
 * The method becomes async. Other decorators' metadata on it is kept.
 * @example @Cron('0 * * * *') @RunAs('reports-job') async hourlyReport() {}
 */
export function RunAs(identity: string): MethodDecorator {
  return (_target, _key, descriptor) => {
    const original = descriptor.value as unknown as AsyncMethod;
    const wrapped = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const { principal, crossTenant } = await serviceIdentities().resolve(identity);
      return runAs(principal, () => original.apply(this, args), { crossTenant });
    };
    for (const key of Reflect.getMetadataKeys(original)) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, original), wrapped);
    }
    Object.defineProperty(wrapped, 'name', { value: original.name });
    (descriptor as PropertyDescriptor).value = wrapped;
    return descriptor;
  };
}
