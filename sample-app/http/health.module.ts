import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AuthHealthIndicator } from 'nest-tessera/terminus';
import { HealthController } from './health.controller.js';
import { HEALTH_PARTS, type HealthPart } from './health.js';

/** `GET /health` of a service: terminus, the library's indicator, and the service's parts. */
@Module({})
export class HealthModule {
  /** `parts` says which parts the service reports on, and what each being down does to it. */
  static forRoot(parts: (auth: AuthHealthIndicator) => readonly HealthPart[]): DynamicModule {
    return {
      module: HealthModule,
      // terminus's logger off: a failing check would log an error on every poll of /health, and
      // the outage itself is already logged once, as an event, where it starts and ends.
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        AuthHealthIndicator,
        { provide: HEALTH_PARTS, useFactory: parts, inject: [AuthHealthIndicator] },
      ],
    };
  }
}
