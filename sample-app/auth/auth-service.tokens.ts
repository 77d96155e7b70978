/** Injection token of the auth service's `AuthServiceConfig`. */
export const AUTH_SERVICE_CONFIG = Symbol('AuthServiceConfig');

/** Injection token of the auth service's `LoggerService` (the JSON logger of its application). */
export const AUTH_SERVICE_LOGGER = Symbol('AuthServiceLogger');
