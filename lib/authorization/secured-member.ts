import { AuthConfigError, AuthError, MissingTokenError } from '../errors/auth-errors.js';
import type { MethodRule, TenantLocation } from './method-rule.js';
import {
  currentContext,
  runInContext,
  type CallContext,
  type CallIdentity,
  type DeniedListener,
} from './principal-context.js';
import { assertAnyScope, assertScopes } from './scopes.js';
import { assertSameTenant, tenantAt } from './tenant.js';

// `never[]` parameters: any method fits, whatever its own parameter types.
type AnyMethod = (...args: never[]) => unknown;
type Method = (this: unknown, ...args: unknown[]) => unknown;

/** What one decorator asks of a member (or a class of its members). */
export interface RuleChange {
  readonly scopes?: readonly string[];
  readonly anyScopes?: readonly string[];
  readonly tenant?: TenantLocation;
  /** The service identity a call with no context at all runs as (`@RunAs`). */
  readonly runAs?: string;
}

/**
 * What the module that built an instance lends it: the `@RunAs` identities and the
 * `accessDenied` hook. Set on each instance under `CALL_BINDING` at start-up.
 */
export interface CallBinding {
  resolveIdentity(name: string): Promise<CallIdentity>;
  readonly onDenied?: DeniedListener;
}

/** The key of an instance's `CallBinding`. */
export const CALL_BINDING = Symbol('nest-tessera.callBinding');

/** A member wrapped where it is defined, so every way of reaching it meets the check. */
export interface SecuredMember {
  /** `Class.member`, for errors and events. */
  readonly name: string;
  /** Where it was declared: a prototype, or a class for a static member, and its key there. */
  readonly owner: object;
  readonly key: string | symbol;
  /** The checked function installed there. */
  readonly fn: AnyMethod;
  /** The function the decorators were applied to. */
  readonly original: AnyMethod;
  /** The member's rule: its own `@Scopes`/`@AnyScope`/`@Tenant`, each else its class's. */
  readonly rule: MethodRule | undefined;
  readonly runAs: string | undefined;
}

class MemberRecord implements SecuredMember {
  private own: RuleChange = {};
  private fromClass: RuleChange = {};
  rule: MethodRule | undefined;

  fn: AnyMethod = () => undefined;

  constructor(
    readonly name: string,
    readonly owner: object,
    readonly key: string | symbol,
    readonly original: Method,
  ) {}

  get runAs(): string | undefined {
    return this.own.runAs;
  }

  apply(change: RuleChange, level: 'member' | 'class'): void {
    if (level === 'member') this.own = { ...this.own, ...definedOf(change) };
    else this.fromClass = { ...this.fromClass, ...definedOf(change) };
    const scopes = this.own.scopes ?? this.fromClass.scopes;
    const anyScopes = this.own.anyScopes ?? this.fromClass.anyScopes;
    const tenant = this.own.tenant ?? this.fromClass.tenant;
    this.rule =
      scopes === undefined && anyScopes === undefined && tenant === undefined
        ? undefined
        : { scopes: scopes ?? [], anyScopes: anyScopes ?? [], tenant };
  }
}

/** Wrappers made here, and what they enforce. */
const records = new WeakMap<object, MemberRecord>();
/**
 * Secured members by where they were declared (a prototype or a class, and the key): found
 * there even under another decorator's wrapper. Definition metadata, like reflect-metadata's.
 */
const declared = new WeakMap<object, Map<string | symbol, MemberRecord>>();
/** Every secured member declared so far, for the module to plan its call context by. */
const all = new Set<MemberRecord>();

/** The secured member `fn` is, if it is one. */
export function securedMemberOf(fn: unknown): SecuredMember | undefined {
  return typeof fn === 'function' ? records.get(fn) : undefined;
}

/** The secured member declared on `owner` (a prototype or a class) under `key`, if any. */
export function securedMemberAt(owner: object, key: string | symbol): SecuredMember | undefined {
  return declared.get(owner)?.get(key);
}

/**
 * Every secured member of every class loaded in this process: definition metadata, like
 * reflect-metadata's, that the module reads to know whether requests need a call context.
 */
export function securedMembers(): Iterable<SecuredMember> {
  return all;
}

/**
 * Secures `fn`, declared at `owner[key]`, with `change`: a wrapper made here is updated in
 * place (two decorators on one member make one wrapper); anything else is wrapped. `fresh`
 * always wraps, for a subclass that covers an inherited member without changing the base class.
 * @returns the function to install, and whether it is new.
 */
export function secure(
  fn: AnyMethod,
  at: { readonly owner: object; readonly key: string | symbol; readonly name: string },
  change: RuleChange,
  options: { level: 'member' | 'class'; fresh?: boolean },
): { fn: AnyMethod; created: boolean } {
  const existing = options.fresh ? undefined : records.get(fn);
  if (existing !== undefined) {
    existing.apply(change, options.level);
    return { fn, created: false };
  }
  const record = new MemberRecord(at.name, at.owner, at.key, fn as Method);
  record.apply(change, options.level);
  const wrapper = wrap(record);
  record.fn = wrapper;
  records.set(wrapper, record);
  all.add(record);
  let members = declared.get(at.owner);
  if (members === undefined) declared.set(at.owner, (members = new Map()));
  members.set(at.key, record);
  return { fn: wrapper, created: true };
}

function wrap(record: MemberRecord): AnyMethod {
  // An async method refuses with a rejected promise, as its callers expect; a sync one throws.
  const isAsync = record.original.constructor.name === 'AsyncFunction';
  const secured = function (this: unknown, ...args: unknown[]): unknown {
    const context = currentContext();
    if (record.runAs !== undefined) {
      // Always async: lent an identity outside any context, the caller's own inside one.
      return context === undefined
        ? lend(record, this, args)
        : Promise.resolve().then(() => invoke(record, context, this, args, true));
    }
    return invoke(record, context, this, args, isAsync);
  };
  Object.defineProperty(secured, 'name', { value: record.original.name });
  return secured;
}

/** A call outside any context into a `@RunAs` member: it runs as the named service identity. */
async function lend(record: MemberRecord, self: unknown, args: unknown[]): Promise<unknown> {
  const binding = bindingOf(self);
  if (binding === undefined) {
    throw new AuthConfigError(
      `${record.name} runs @RunAs('${record.runAs}'), but no AuthModule built this instance ` +
        '(a static member, a lazily loaded or request-scoped provider, or an object made with new)',
    );
  }
  const identity = await binding.resolveIdentity(record.runAs!);
  const context: CallContext = { identity, onDenied: binding.onDenied, closed: false };
  try {
    return await runInContext(context, () => invoke(record, context, self, args, true));
  } finally {
    // The identity was lent to this call: whatever it left running is on its own now.
    context.closed = true;
  }
}

function bindingOf(self: unknown): CallBinding | undefined {
  if (self === null || (typeof self !== 'object' && typeof self !== 'function')) return undefined;
  return (self as { [CALL_BINDING]?: CallBinding })[CALL_BINDING];
}

/** Checks the call against the member's rule (the tenant of a result after it), then runs it. */
function invoke(
  record: MemberRecord,
  context: CallContext | undefined,
  self: unknown,
  args: unknown[],
  isAsync: boolean,
): unknown {
  const rule = record.rule;
  if (rule === undefined) return Reflect.apply(record.original, self, args);
  const deny = (error: unknown): never => {
    if (error instanceof AuthError) {
      (context?.onDenied ?? bindingOf(self)?.onDenied)?.({ method: record.name, error });
    }
    throw error;
  };
  const identity = context === undefined || context.closed ? undefined : context.identity;
  try {
    if (identity === undefined) {
      throw new MissingTokenError(
        'no_principal',
        `${record.name} was called with no caller (no request, message, @RunAs or runAs)`,
      );
    }
    if (rule.scopes.length > 0) assertScopes(identity.principal, rule.scopes);
    if (rule.anyScopes.length > 0) assertAnyScope(identity.principal, rule.anyScopes);
    const tenant = rule.tenant;
    if (tenant !== undefined && 'arg' in tenant) {
      assertSameTenant(identity, tenantAt(args[tenant.arg], tenant.field));
    }
  } catch (error) {
    if (isAsync) return Promise.reject(error).catch(deny);
    deny(error);
  }
  const result = Reflect.apply(record.original, self, args);
  const tenant = rule.tenant;
  if (tenant === undefined || !('result' in tenant)) return result;
  const checkResult = (value: unknown): unknown => {
    try {
      if (value !== null && value !== undefined) {
        assertSameTenant(identity!, tenantAt(value, tenant.result));
      }
    } catch (error) {
      deny(error);
    }
    return value;
  };
  return result instanceof Promise ? result.then(checkResult) : checkResult(result);
}

function definedOf(change: RuleChange): RuleChange {
  return Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined));
}
