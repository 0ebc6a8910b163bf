/**
 * The tenant's settings (GetTenantSettings, UpdateTenantSettings, ReplaceTenantHolidays): blocked hours, holidays,
 * the AI-seat pool, frequency caps and the default time zone. Every role reads them; only an admin changes them.
 * The caller's tenant only (the API key decides it).
 */
import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '../auth/auth';
import { TenantSettingsDto, UpdateTenantSettingsDto, YearHolidaysDto } from './tenant-settings.dto';
import { TenantSettingsService } from './tenant-settings.service';

@ApiTags('tenant')
@ApiBearerAuth()
@Controller('tenant')
export class TenantSettingsController {
  constructor(private readonly settings: TenantSettingsService) {}

  @Get('settings')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiOperation({
    operationId: 'GetTenantSettings',
    summary: 'The tenant’s blocked hours, holidays, AI-seat pool, frequency caps and default zone (defaults: config)',
  })
  @ApiOkResponse({ type: TenantSettingsDto })
  get(@CurrentPrincipal() p: Principal) {
    return this.settings.get(p.tenantId);
  }

  @Put('settings')
  @Roles('admin')
  @ApiOperation({
    operationId: 'UpdateTenantSettings',
    summary:
      'Change the tenant’s settings: a field given replaces it, null returns it to the default; tasks started later use them',
  })
  @ApiOkResponse({ type: TenantSettingsDto })
  update(@CurrentPrincipal() p: Principal, @Body() dto: UpdateTenantSettingsDto) {
    return this.settings.update(p.tenantId, dto);
  }

  @Put('holidays/:year')
  @Roles('admin')
  @ApiParam({ name: 'year', example: 2025 })
  @ApiOperation({
    operationId: 'ReplaceTenantHolidays',
    summary: 'Replace one year’s holidays (the other years are kept)',
  })
  @ApiOkResponse({ type: TenantSettingsDto })
  replaceYear(@CurrentPrincipal() p: Principal, @Param('year') year: string, @Body() dto: YearHolidaysDto) {
    return this.settings.replaceYear(p.tenantId, /^\d{4}$/.test(year) ? Number(year) : NaN, dto.dates);
  }
}
