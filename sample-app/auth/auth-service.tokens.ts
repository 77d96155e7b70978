/** Injection token of the auth service's `AuthServiceConfig`. */
export const AUTH_SERVICE_CONFIG = Symbol('AuthServiceConfig');
