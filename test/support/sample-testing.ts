import type { LoggerService } from '@nestjs/common';
import request from 'supertest';

/** A logger that drops everything. */
export const quiet: LoggerService = { log() {}, warn() {}, error() {} };

interface LogEntry {
  readonly level: string;
  readonly message: unknown;
  readonly fields: Record<string, unknown>;
}

/** Keeps every log line as the JSON logger would write it: level, message, fields. */
export class CapturingLogger implements LoggerService {
  readonly entries: LogEntry[] = [];
  log(message: unknown, ...params: unknown[]): void {
    this.keep('log', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.keep('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.keep('error', message, params);
  }
  /** The access-log entries of `path`. */
  requests(path: string): Record<string, unknown>[] {
    return this.entries
      .filter((e) => e.message === 'request' && e.fields.path === path)
      .map((e) => e.fields);
  }
  /** The log lines of one security event. */
  events(name: string): Record<string, unknown>[] {
    return this.entries.filter((e) => e.fields.event === name).map((e) => e.fields);
  }
  private keep(level: string, message: unknown, params: unknown[]): void {
    const fields = Object.assign(
      {},
      ...params.filter((p): p is object => typeof p === 'object' && p !== null),
    );
    this.entries.push({ level, message, fields });
  }
}

/** The header and claims of a compact JWS, unverified (for assertions only). */
export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
} {
  const [header, claims] = token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
  return { header, claims };
}

/** The demo `reports-job` client's token from the sample auth service at `authUrl`. */
export async function reportsJobToken(authUrl: string): Promise<string> {
  const response = await request(authUrl)
    .post('/auth/token')
    .type('form')
    .send({
      grant_type: 'client_credentials',
      client_id: 'reports-job',
      client_secret: 'reports-job-secret',
    })
    .expect(200);
  return response.body.access_token as string;
}
