/** The tenant settings API's controllers and providers, spread into AppModule (they use its LOGGER and REPOSITORIES). */
import type { Provider, Type } from '@nestjs/common';
import { TenantSettingsController } from './tenant-settings.controller';
import { TenantSettingsService } from './tenant-settings.service';

export const TENANT_CONTROLLERS: Type[] = [TenantSettingsController];
export const TENANT_PROVIDERS: Provider[] = [TenantSettingsService];
