import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '../../lib/index.js';

/** `GET /health`: 200 once the service is listening; open to everyone. */
@Controller('health')
export class HealthController {
  @Public()
  @Get()
  @Header('Cache-Control', 'no-store')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
