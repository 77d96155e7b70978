// The benchmark scripts' command-line arguments, `--name=value`.

/** The value of `--name=…`, if given. */
export function argumentValue(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

/** A positive number, `fallback` when the argument is absent. */
export function numberArgument(name: string, fallback: number): number {
  const raw = argumentValue(name);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`bad --${name}=${raw}`);
  return value;
}

/** The members of `all` named in `--name=a,b` (in the order of `all`); `fallback` when absent. */
export function listArgument<T extends string>(
  name: string,
  all: readonly T[],
  fallback: readonly T[] = all,
): readonly T[] {
  const raw = argumentValue(name);
  if (raw === undefined) return fallback;
  const picked = raw.split(',') as T[];
  const unknown = picked.filter((p) => !all.includes(p));
  if (unknown.length > 0) throw new Error(`--${name}: unknown ${unknown.join(', ')}`);
  return all.filter((a) => picked.includes(a));
}
