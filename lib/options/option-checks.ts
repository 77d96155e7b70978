import { AuthConfigError } from '../errors/auth-errors.js';

// The checks every option goes through, shared by the resolvers of each part of the options.

const TYPE_NAMES = {
  boolean: 'a boolean',
  string: 'a string',
  function: 'a function',
  object: 'an object',
};
type TypeOf = {
  boolean: boolean;
  string: string;
  function: (...args: never[]) => unknown;
  object: object;
};

/**
 * `value`, when absent or of the type named; else an `AuthConfigError`. Options often come from
 * configuration files, where `'false'` or `0` would otherwise pass as a setting.
 */
export function optional<T, K extends keyof TypeOf>(name: string, value: T, type: K): T {
  if (value === undefined) return value;
  const ok =
    type === 'object'
      ? value !== null && typeof value === 'object' && !Array.isArray(value)
      : typeof value === type;
  if (!ok) fail(`${name} must be ${TYPE_NAMES[type]}, got ${describe(value)}`);
  return value;
}

/** An array of strings; else an `AuthConfigError` (a string would be read letter by letter). */
export function strings(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    fail(`${name} must be an array of strings, got ${describe(value)}`);
  }
  return [...(value as string[])];
}

export function describe(value: unknown): string {
  return typeof value === 'string'
    ? JSON.stringify(value)
    : Array.isArray(value)
      ? 'an array'
      : String(value);
}

export function bounded(name: string, value: number | undefined, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(`${name} must be a number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** `bounded`, and a whole number (a timer's milliseconds, a count of bytes). */
export function boundedInteger(
  name: string,
  value: number | undefined,
  min: number,
  max: number,
): number {
  const checked = bounded(name, value, min, max);
  if (!Number.isInteger(checked)) fail(`${name} must be a whole number, got ${checked}`);
  return checked;
}

export function fail(message: string): never {
  throw new AuthConfigError(message);
}
