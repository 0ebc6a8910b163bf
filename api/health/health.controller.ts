/**
 * GET /health: connectivity of Temporal, MongoDB and Asterisk ARI. Public (load balancers and compose health
 * checks call it without credentials); it reveals only up/down and latency, never addresses or secrets.
 */
import { Controller, Get, Inject, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Client, Connection } from '@temporalio/client';
import type { Response } from 'express';
import type { Config } from '../../config/config';
import { pingMongo, type Repositories } from '../../activities/mongo/connection';
import { Public } from '../auth/auth';
import { CONFIG, REPOSITORIES, TEMPORAL } from '../common/tokens';

type Check = { status: 'up' | 'down'; latencyMs: number; error?: string };

class HealthCheckDto {
  @ApiProperty({ enum: ['up', 'down'], example: 'up' })
  status!: string;
  @ApiProperty({ example: 4 })
  latencyMs!: number;
  @ApiPropertyOptional({ example: 'connect ECONNREFUSED', description: 'Why it is down (first 200 characters)' })
  error?: string;
}

class HealthChecksDto {
  @ApiProperty({ type: HealthCheckDto })
  temporal!: HealthCheckDto;
  @ApiProperty({ type: HealthCheckDto })
  mongodb!: HealthCheckDto;
  @ApiProperty({ type: HealthCheckDto })
  ari!: HealthCheckDto;
}

/** GET /health's answer (also the body of the 503). */
export class HealthDto {
  @ApiProperty({ enum: ['up', 'down'], example: 'up' })
  status!: string;
  @ApiProperty({ type: HealthChecksDto })
  checks!: HealthChecksDto;
}

async function timed(fn: () => Promise<unknown>, timeoutMs = 3_000): Promise<Check> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'up', latencyMs: Date.now() - t0 };
  } catch (err) {
    return { status: 'down', latencyMs: Date.now() - t0, error: (err as Error).message.slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    @Inject(TEMPORAL) private readonly temporal: Client,
  ) {}

  @Get()
  @Public()
  @ApiOperation({
    operationId: 'Health',
    summary: 'Connectivity of Temporal, MongoDB and ARI (200 all up, 503 otherwise)',
  })
  @ApiOkResponse({ type: HealthDto, description: 'All up' })
  @ApiServiceUnavailableResponse({ type: HealthDto, description: 'At least one down' })
  async health(@Res({ passthrough: true }) res: Response) {
    const { url, username, password } = this.config.ari;
    const [temporal, mongodb, ari] = await Promise.all([
      timed(async () => {
        const connection = this.temporal.connection as Connection;
        await connection.ensureConnected();
        await connection.healthService.check({});
      }),
      timed(() => pingMongo(this.repos.conn)),
      timed(async () => {
        const r = await fetch(`${url}/ari/asterisk/ping`, {
          headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
        });
        if (!r.ok) throw new Error(`ARI answered ${r.status}`);
      }),
    ]);
    const ok = [temporal, mongodb, ari].every((c) => c.status === 'up');
    res.status(ok ? 200 : 503);
    return { status: ok ? 'up' : 'down', checks: { temporal, mongodb, ari } };
  }
}
