import type { AuthEvents } from '../events.js';
import type { SessionEvents } from '../session/session-manager.js';

type Hook = (event: unknown) => unknown;
type Listener = Record<string, unknown>;

/**
 * One `AuthEvents` (and `SessionEvents`) object that passes every event to each of `listeners`
 * in order, so metrics, logs and traces can all listen. Each call is isolated: a listener that
 * throws, or whose promise rejects, is skipped for that event (with one process warning per
 * listener and hook), and the others still run. The library itself never sees the error, so a
 * broken listener can neither refuse a valid token nor turn a refusal into a 500.
 *
 * @example
 * AuthModule.forRoot({ ...options, events: combineAuthEvents(metrics, accessLog) })
 */
export function combineAuthEvents(
  ...listeners: readonly (AuthEvents & SessionEvents)[]
): AuthEvents & SessionEvents {
  const combined: Record<string, Hook> = {};
  const names = new Set(listeners.flatMap((listener) => hookNames(listener)));
  for (const name of names) {
    const withHook = listeners.filter(
      (listener) => typeof (listener as Listener)[name] === 'function',
    );
    const warned = new Set<object>();
    const failed = (listener: object, error: unknown) => {
      if (warned.has(listener)) return;
      warned.add(listener);
      warnListenerFailed(name, error);
    };
    combined[name] = (event: unknown) => {
      for (const listener of withHook) {
        try {
          const result = ((listener as Listener)[name] as Hook).call(listener, event);
          if (isThenable(result)) result.then(undefined, (error) => failed(listener, error));
        } catch (error) {
          failed(listener, error);
        }
      }
    };
  }
  return combined as AuthEvents & SessionEvents;
}

/** The function-valued members of a listener, own or inherited (class instances too). */
function hookNames(listener: object): string[] {
  const names: string[] = [];
  for (
    let o: object | null = listener;
    o !== null && o !== Object.prototype;
    o = Object.getPrototypeOf(o) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name !== 'constructor' && typeof (listener as Listener)[name] === 'function') {
        names.push(name);
      }
    }
  }
  return names;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function warnListenerFailed(hook: string, error: unknown): void {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.emitWarning(
    `an events listener threw in ${hook} (further errors of this listener there are ignored): ${detail}`,
    { type: 'TesseraWarning', code: 'TESSERA_EVENTS_LISTENER' },
  );
}
