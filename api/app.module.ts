/** The HTTP application: wiring of ports (config, logger, MongoDB repositories, Temporal client) and modules. */
import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config/config';
import type { Logger } from '../activities/logger';
import { openRepositories, type Repositories } from '../activities/mongo/connection';
import { AUDIT_CONTROLLERS, AUDIT_PROVIDERS } from './audit/audit.providers';
import { ApiKeyGuard } from './auth/auth';
import { ProblemFilter } from './common/problem.filter';
import { CONFIG, LOGGER, REPOSITORIES, TEMPORAL } from './common/tokens';
import { validationPipe } from './common/validation';
import { HealthController } from './health/health.controller';
import { DialogController } from './calls/dialog.controller';
import { CALL_CONTROL_CONTROLLERS, CALL_CONTROL_PROVIDERS } from './calls/call-control.controller';
import { DncController } from './lists/dnc.controller';
import { DncService } from './lists/dnc.service';
import { ListExportService } from './lists/list-export.service';
import { ListImportService } from './lists/list-import.service';
import { DEFAULT_LIST_LIMITS, LIST_LIMITS } from './lists/list-limits';
import { AsteriskLinesService } from './lines/asterisk-lines.service';
import { CallerNumbersController, LinesController } from './lines/lines.controller';
import { LinesService } from './lines/lines.service';
import { RecordingsController } from './recordings/recordings.controller';
import { RecordingsService } from './recordings/recordings.service';
import { SCRIPT_CONTROLLERS, SCRIPT_PROVIDERS } from './scripts/scripts.providers';
import { AGENT_CONTROLLERS, AGENT_PROVIDERS } from './agents/agents.providers';
import { AgentViewController } from './agents/agent-view.controller';
import { AgentViewService } from './agents/agent-view.service';
import { TENANT_CONTROLLERS, TENANT_PROVIDERS } from './tenant/tenant.providers';
import { CampaignController } from './tasks/campaign.controller';
import { CampaignService } from './tasks/campaign.service';
import { TasksController } from './tasks/tasks.controller';
import { TasksService } from './tasks/tasks.service';

export interface AppPorts {
  config: Config;
  logger: Logger;
  repos: Repositories;
  temporal: Client;
}

@Module({})
export class AppModule {
  static forRoot(ports: AppPorts): DynamicModule {
    return {
      module: AppModule,
      controllers: [
        HealthController,
        TasksController,
        CampaignController,
        DncController,
        DialogController,
        RecordingsController,
        LinesController,
        CallerNumbersController,
        ...SCRIPT_CONTROLLERS,
        // Before AGENT_CONTROLLERS: `/agents/me/…` must not be taken by `/agents/:id/…`.
        AgentViewController,
        ...CALL_CONTROL_CONTROLLERS,
        ...AGENT_CONTROLLERS,
        ...AUDIT_CONTROLLERS,
        ...TENANT_CONTROLLERS,
      ],
      providers: [
        { provide: CONFIG, useValue: ports.config },
        { provide: LOGGER, useValue: ports.logger },
        { provide: REPOSITORIES, useValue: ports.repos },
        { provide: TEMPORAL, useValue: ports.temporal },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        TasksService,
        CampaignService,
        { provide: LIST_LIMITS, useValue: Object.freeze({ ...DEFAULT_LIST_LIMITS, ...ports.config.lists }) },
        ListImportService,
        ListExportService,
        DncService,
        AsteriskLinesService,
        LinesService,
        RecordingsService,
        ...SCRIPT_PROVIDERS,
        ...AGENT_PROVIDERS,
        AgentViewService,
        ...CALL_CONTROL_PROVIDERS,
        ...AUDIT_PROVIDERS,
        ...TENANT_PROVIDERS,
      ],
    };
  }
}

/** Open the ports the API needs. The Temporal connection is lazy so the API starts (and reports) without it. */
export async function openPorts(config: Config, logger: Logger): Promise<AppPorts> {
  const repos = await openRepositories(config.mongodbUri, config.tenantDefaults);
  const connection = Connection.lazy({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  return { config, logger, repos, temporal };
}

export async function closePorts(ports: AppPorts): Promise<void> {
  await ports.temporal.connection.close();
  await ports.repos.conn.close();
}

/** Build the Nest application with validation, problem+json errors and Swagger UI at /docs. */
export async function createApp(ports: AppPorts): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(ports), {
    logger: ['error', 'warn'],
    bodyParser: true,
  });
  app.useGlobalPipes(validationPipe());
  // AttachTask's and the do-not-call list's JSON bodies carry up to 10,000 entries.
  app.useBodyParser('json', { limit: '10mb' });
  const doc = new DocumentBuilder()
    .setTitle('Waihu (外呼)')
    .setDescription('AI-robot outbound call campaigns: tasks, call lists, progress and per-call records.')
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key' })
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc), {
    jsonDocumentUrl: 'docs/openapi.json',
  });
  return app;
}
