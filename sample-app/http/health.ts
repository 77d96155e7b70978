import { ServiceUnavailableException } from '@nestjs/common';
import type {
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorResult,
} from '@nestjs/terminus';
import type { AuthHealthIndicator } from 'nest-tessera/terminus';

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
export interface HealthPart {
  /** The part's name in the answer (`redis`, `jwks`), and the key its check reports under. */
  readonly part: string;
  /** A terminus health indicator reporting under `part`. */
  check(): Promise<HealthIndicatorResult>;
  /** What the part being down does to this service, from what its check reported. */
  whenDown(reported: Readonly<Record<string, unknown>>): PartProblem;
}

/** Injection token of a service's `HealthPart[]`. */
export const HEALTH_PARTS = Symbol('HealthParts');

/** What `GET /health` answers: `{status: 'ok'}`, or the status and each failing part. */
export type HealthReport =
  | { readonly status: 'ok' }
  | {
      readonly status: 'degraded' | 'unavailable';
      readonly failing: Readonly<Record<string, string>>;
    };

/**
 * Runs every part's check through terminus, and maps its result (terminus answers 503 for any
 * part down) to the contract's answer: a part down is `degraded` or `unavailable` as the part says.
 * A check that throws counts as its part down.
 */
export async function healthReport(
  health: HealthCheckService,
  parts: readonly HealthPart[],
): Promise<HealthReport> {
  const result = await terminusResult(
    health,
    parts.map((part) => () => part.check().catch((error: unknown) => down(part.part, error))),
  );
  if (result.status === 'shutting_down') {
    return { status: 'unavailable', failing: { service: 'shutting down' } };
  }
  const problems = Object.entries(result.error ?? {}).map(([name, reported]) => {
    const part = parts.find((p) => p.part === name);
    const problem: PartProblem = part?.whenDown(reported ?? {}) ?? {
      impact: 'unavailable',
      detail: String(reported?.message ?? 'down'),
    };
    return [name, problem] as const;
  });
  if (problems.length === 0) return { status: 'ok' };
  return {
    status: problems.some(([, p]) => p.impact === 'unavailable') ? 'unavailable' : 'degraded',
    failing: Object.fromEntries(problems.map(([name, p]) => [name, p.detail])),
  };
}

/**
 * Redis, as the revocation list sees it: up while it answers and the list's local view is
 * current. `impact` is what an outage does to this service.
 */
export function redisPart(
  auth: AuthHealthIndicator,
  impact: PartProblem['impact'],
  detail: string,
): HealthPart {
  return {
    part: 'redis',
    check: () => auth.checkRevocationStore('redis'),
    whenDown: () => ({ impact, detail }),
  };
}

/** terminus's result, whether it resolved (all up) or was thrown with its 503. */
async function terminusResult(
  health: HealthCheckService,
  checks: (() => Promise<HealthIndicatorResult>)[],
): Promise<HealthCheckResult> {
  try {
    return await health.check(checks);
  } catch (error) {
    if (!(error instanceof ServiceUnavailableException)) throw error;
    return error.getResponse() as HealthCheckResult;
  }
}

function down(part: string, error: unknown): HealthIndicatorResult {
  const message = error instanceof Error ? error.message : String(error);
  return { [part]: { status: 'down', message } };
}
