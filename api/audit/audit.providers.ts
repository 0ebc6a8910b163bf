/** The audit module's controllers and providers, spread into AppModule (api/app.module.ts). */
import { AuditExportService } from './audit-export.service';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';
import { MetricsController } from './metrics.controller';

export const AUDIT_CONTROLLERS = [AuditController, MetricsController];
export const AUDIT_PROVIDERS = [AuditService, AuditExportService];
