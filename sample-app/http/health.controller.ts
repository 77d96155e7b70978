import {
  Controller,
  Get,
  Header,
  Inject,
  Optional,
  ServiceUnavailableException,
} from '@nestjs/common';
import { Public, SkipThrottle } from 'nest-tessera';
import { HEALTH_CHECKS, healthReport, type HealthCheck, type HealthReport } from './health.js';

/**
 * `GET /health`, open to everyone and never throttled: 200 `{status: 'ok'}` once the service is
 * ready; 200 `{status: 'degraded', failing}` while it serves with less (Redis down where the
 * policy fails open); 503 `{status: 'unavailable', failing}` while it cannot do its job.
 */
@Controller('health')
export class HealthController {
  constructor(@Optional() @Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[] = []) {}

  @Public()
  @SkipThrottle()
  @Get()
  @Header('Cache-Control', 'no-store')
  async health(): Promise<HealthReport> {
    const report = await healthReport(this.checks ?? []);
    if (report.status === 'unavailable') throw new ServiceUnavailableException(report);
    return report;
  }
}
