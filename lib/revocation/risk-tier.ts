/** How much a route's answer is worth protecting: sensitive routes ask the backend itself. */
export type RiskTier = 'standard' | 'sensitive';

/** What to do, per tier, when the revocation backend cannot be asked. */
export type OutagePolicy = Readonly<Record<RiskTier, 'fail-open' | 'fail-closed'>>;
