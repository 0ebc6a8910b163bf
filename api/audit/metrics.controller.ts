/**
 * `GET /metrics`: Prometheus text (api-metrics.ts). **Public unless METRICS_TOKEN is set**, like /health, because
 * scrapers usually run without tenant API keys; the numbers span every tenant, so they are not behind a tenant's
 * key either. In production set METRICS_TOKEN and give it to the scraper (`authorization: { credentials: … }` in
 * the Prometheus job); a request without it then gets 401. The worker's metrics are a separate target
 * (WORKER_METRICS_BIND, activities/observability/runtime.ts).
 */
import { Controller, Get, Header, Inject, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { Client } from '@temporalio/client';
import type { Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config/config';
import { Public } from '../auth/auth';
import { CONFIG, TEMPORAL } from '../common/tokens';
import { ApiMetrics } from './api-metrics';

const digest = (s: string) => createHash('sha256').update(s).digest();

@Controller('metrics')
export class MetricsController {
  private readonly metrics: ApiMetrics;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(TEMPORAL) temporal: Client,
  ) {
    this.metrics = new ApiMetrics(temporal);
  }

  @Get()
  @Public()
  @ApiExcludeEndpoint()
  @Header('Cache-Control', 'no-store')
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    const token = this.config.observability.metricsToken;
    if (token) {
      const header = req.headers.authorization ?? '';
      const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!timingSafeEqual(digest(presented), digest(token)))
        throw new UnauthorizedException('a metrics token is required');
    }
    res.type(this.metrics.contentType).send(await this.metrics.render());
  }
}
