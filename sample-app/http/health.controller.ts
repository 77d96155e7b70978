import { Controller, Get, Header, Inject, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from 'nest-tessera';
import { HEALTH_PARTS, healthReport, type HealthPart, type HealthReport } from './health.js';

/**
 * `GET /health`, open to everyone and never throttled: 200 `{status: 'ok'}` once the service is
 * ready; 200 `{status: 'degraded', failing}` while it serves with less (Redis down where the
 * policy fails open); 503 `{status: 'unavailable', failing}` while it cannot do its job.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    @Inject(HEALTH_PARTS) private readonly parts: readonly HealthPart[],
  ) {}

  @Public()
  @SkipThrottle()
  @Get()
  @Header('Cache-Control', 'no-store')
  async check(): Promise<HealthReport> {
    const report = await healthReport(this.health, this.parts);
    if (report.status === 'unavailable') throw new ServiceUnavailableException(report);
    return report;
  }
}
