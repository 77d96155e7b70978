import type { AuthEvents } from 'nest-tessera';
import type { TrustedIssuer } from '../config.js';
import type { HealthCheck, PartProblem } from '../http/health.js';

/** How long a probe's answer is reused: `/health` is unthrottled, the issuers must not pay. */
const PROBE_TTL_MS = 5_000;
const PROBE_TIMEOUT_MS = 1_000;

interface Probe {
  readonly at: number;
  readonly reachable: Promise<boolean>;
}

/**
 * Whether orders can verify each trusted issuer's tokens. The verifier fetches an issuer's JWKS
 * on the first token of that issuer and keeps the keys through later outages of the endpoint, so
 * an issuer is fine once a fetch succeeded (seen through the `jwksFetched` event); before that,
 * it is fine if its JWKS endpoint answers with keys now (the first token will load them). Probes
 * run at most once per issuer every 5 s, however often `/health` is asked.
 *
 * No issuer's keys to be had: unavailable. Some issuers but not all: degraded.
 */
export class JwksHealth implements HealthCheck {
  readonly part = 'jwks';
  private readonly loaded = new Set<string>();
  private readonly probes = new Map<string, Probe>();

  constructor(
    private readonly issuers: readonly TrustedIssuer[],
    private readonly fetchFn: typeof fetch = (input, init) => fetch(input, init),
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Listens to the verifier's JWKS fetches (combine it with the service's other events). */
  readonly events: AuthEvents = {
    jwksFetched: ({ issuer, ok }) => {
      if (ok) this.loaded.add(issuer);
    },
  };

  async check(): Promise<PartProblem | undefined> {
    const missing: string[] = [];
    await Promise.all(
      this.issuers.map(async (issuer) => {
        if (!this.loaded.has(issuer.issuer) && !(await this.reachable(issuer))) {
          missing.push(issuer.issuer);
        }
      }),
    );
    if (missing.length === 0) return undefined;
    return {
      impact: missing.length === this.issuers.length ? 'unavailable' : 'degraded',
      detail: `no keys loaded and the JWKS cannot be fetched: ${missing.sort().join(', ')}`,
    };
  }

  private reachable(issuer: TrustedIssuer): Promise<boolean> {
    const known = this.probes.get(issuer.issuer);
    if (known !== undefined && this.nowMs() - known.at < PROBE_TTL_MS) return known.reachable;
    const reachable = this.probe(issuer.jwksUri);
    this.probes.set(issuer.issuer, { at: this.nowMs(), reachable });
    return reachable;
  }

  private async probe(jwksUri: string): Promise<boolean> {
    try {
      const response = await this.fetchFn(jwksUri, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        return false;
      }
      const body = (await response.json()) as { keys?: unknown } | null;
      return Array.isArray(body?.keys) && body.keys.length > 0;
    } catch {
      return false;
    }
  }
}
