import { Controller, Get, Inject, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Registry } from 'prom-client';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from 'nest-tessera';
import { METRICS_REGISTRY } from './telemetry.js';

/** `GET /metrics`: the service's own registry in the Prometheus text format; open, never throttled. */
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Public()
  @SkipThrottle()
  @Get()
  async metrics(@Res({ passthrough: true }) response: unknown): Promise<string> {
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(response, 'Content-Type', this.registry.contentType);
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    return this.registry.metrics();
  }
}
