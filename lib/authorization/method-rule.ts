/**
 * Where a method's tenant is: an argument (optionally a field of it), or a field of what the
 * method returns (a loaded entity), checked after it returns.
 */
export type TenantLocation =
  { readonly arg: number; readonly field?: string } | { readonly result: string };

/** What a protected method requires of the caller. */
export interface MethodRule {
  /** Every one of these (`@Scopes`). */
  readonly scopes: readonly string[];
  /** At least one of these (`@AnyScope`); empty: no such requirement. */
  readonly anyScopes: readonly string[];
  readonly tenant: TenantLocation | undefined;
}
