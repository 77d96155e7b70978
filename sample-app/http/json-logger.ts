import { ConsoleLogger, type ConsoleLoggerOptions, type LogLevel } from '@nestjs/common';

type JsonLogOptions = {
  context: string;
  logLevel: LogLevel;
  writeStreamType?: 'stdout' | 'stderr';
  errorStack?: unknown;
  params?: Record<string, unknown>;
  error?: Error;
};

// A second line of defence: a structured log field with one of these names is masked even if
// some code passes a credential by mistake. Messages themselves never carry one.
const SECRET_FIELDS = [
  'authorization',
  'password',
  'client_secret',
  'access_token',
  'refresh_token',
  'token',
  'cookie',
];

/**
 * Nest's console logger in JSON mode: one line per event on stdout (errors included, so the
 * one stream holds every event in order), each line naming the service.
 */
export class JsonLogger extends ConsoleLogger {
  constructor(
    private readonly service: string,
    options: Omit<ConsoleLoggerOptions, 'json'> = {},
  ) {
    super({ ...options, json: true, flattenParams: true, redact: SECRET_FIELDS });
  }

  protected override printAsJson(message: unknown, options: JsonLogOptions): void {
    super.printAsJson(message, { ...options, writeStreamType: 'stdout' });
  }

  protected override getJsonLogObject(message: unknown, options: JsonLogOptions) {
    return { service: this.service, ...super.getJsonLogObject(message, options) };
  }
}
