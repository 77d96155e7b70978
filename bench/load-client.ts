// The load of the HTTP comparison (http-compare.bench.ts starts it once, as a child process with
// an IPC channel): autocannon, used programmatically so that requests can take turns over a list
// of tokens, one request each. Each `LoadRequest` received is one run; its `LoadResult` gives the
// rate, the p99 and every status code seen, for the parent to check. Exits when the channel
// closes.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface LoadRequest {
  readonly url: string;
  /** A JSON array of tokens; each connection sends them in turn, one per request. */
  readonly tokensFile: string;
  readonly connections: number;
  readonly durationS: number;
}

export interface LoadResult {
  /** Completed requests per second over the whole run. */
  readonly rps: number;
  /** 99th percentile of the latency, in ms (autocannon's whole-millisecond histogram). */
  readonly p99: number;
  readonly total: number;
  /** Responses per status code. */
  readonly statusCodes: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly timeouts: number;
}

// The part of autocannon's programmatic API used here (it ships no types).
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  requests: { method: 'GET'; headers: Record<string, string> }[];
}
interface AutocannonResult {
  duration: number;
  requests: { total: number };
  latency: { p99: number };
  statusCodeStats: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: AutocannonOptions) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const requestLists = new Map<string, AutocannonOptions['requests']>();

// Built once per list: autocannon keeps the bytes of every request that has no setup function.
function requestsOf(tokensFile: string): AutocannonOptions['requests'] {
  let requests = requestLists.get(tokensFile);
  if (requests === undefined) {
    const tokens = JSON.parse(readFileSync(tokensFile, 'utf8')) as string[];
    requests = tokens.map((token) => ({
      method: 'GET',
      headers: { authorization: `Bearer ${token}` },
    }));
    requestLists.set(tokensFile, requests);
  }
  return requests;
}

async function run(request: LoadRequest): Promise<LoadResult> {
  const result = await autocannon({
    url: request.url,
    connections: request.connections,
    duration: request.durationS,
    requests: requestsOf(request.tokensFile),
  });
  return {
    rps: result.requests.total / result.duration,
    p99: result.latency.p99,
    total: result.requests.total,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]),
    ),
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

process.on('message', (request: LoadRequest) => {
  run(request).then(
    (result) => process.send!(result),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
process.on('disconnect', () => process.exit(0));
