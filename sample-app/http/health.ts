import type { RevocationStore } from 'nest-tessera';

/** What is wrong with one part of a service, as `GET /health` names it. */
export interface PartProblem {
  /**
   * `unavailable`: the service cannot do its job (503, take it out of rotation); `degraded`: it
   * serves with less (200, keep sending traffic).
   */
  readonly impact: 'degraded' | 'unavailable';
  /** One line for the operator; never a credential, a URL with a password or a token. */
  readonly detail: string;
}

/** One part of a service that `GET /health` reports on. */
export interface HealthCheck {
  /** The part's name in the answer: `redis`, `jwks`. */
  readonly part: string;
  /** `undefined` when the part is fine. Must answer quickly: a load balancer is waiting. */
  check(): PartProblem | undefined | Promise<PartProblem | undefined>;
}

/** Injection token of a service's `HealthCheck[]`. */
export const HEALTH_CHECKS = Symbol('HealthChecks');

/** What `GET /health` answers: `{status: 'ok'}`, or the status and each failing part. */
export type HealthReport =
  | { readonly status: 'ok' }
  | {
      readonly status: 'degraded' | 'unavailable';
      readonly failing: Readonly<Record<string, string>>;
    };

/** Runs every check at once; a check that throws counts as its part being unavailable. */
export async function healthReport(checks: readonly HealthCheck[]): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async (check): Promise<[string, PartProblem | undefined]> => {
      try {
        return [check.part, await check.check()];
      } catch (error) {
        return [check.part, { impact: 'unavailable', detail: (error as Error).message }];
      }
    }),
  );
  const failing = results.filter((r): r is [string, PartProblem] => r[1] !== undefined);
  if (failing.length === 0) return { status: 'ok' };
  return {
    status: failing.some(([, p]) => p.impact === 'unavailable') ? 'unavailable' : 'degraded',
    failing: Object.fromEntries(failing.map(([part, p]) => [part, p.detail])),
  };
}

/**
 * Redis, as the revocation list sees it: its local view is current only while its connection to
 * Redis is up (no extra connection or round trip per `/health`). `impact` is what an outage does
 * to this service.
 */
export function redisCheck(
  revocations: RevocationStore,
  impact: PartProblem['impact'],
  detail: string,
): HealthCheck {
  return {
    part: 'redis',
    check: () => (revocations.isCurrent ? undefined : { impact, detail }),
  };
}
