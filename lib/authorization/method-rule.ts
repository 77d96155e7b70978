/**
 * Where a method's tenant is: an argument (optionally a field of it), or a field of what the
 * method returns (a loaded entity), checked after it returns.
 */
export type TenantLocation =
  { readonly arg: number; readonly field?: string } | { readonly result: string };

/** What a protected method requires of the caller. */
export interface MethodRule {
  readonly scopes: readonly string[];
  readonly tenant: TenantLocation | undefined;
}
