// The nest-tessera/terminus entry: health checks for @nestjs/terminus, an optional peer
// dependency that the main entry never loads.

export { AuthHealthIndicator } from './nest/auth-health.indicator.js';
export type { KeysCheckData, RevocationCheckData } from './nest/auth-health.indicator.js';
