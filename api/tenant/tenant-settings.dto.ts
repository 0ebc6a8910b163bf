/**
 * DTOs of the tenant settings routes. class-validator checks shapes and ranges; TenantSettingsService checks what
 * needs the whole request or the database (a period blocking nothing or everything, real dates, a known zone, the
 * pool against the seats held), naming each field.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { TENANT_SETTING_FIELDS } from '../../activities/mongo/tenant-settings';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
/** At most this many holidays per tenant (a year and some). */
export const MAX_HOLIDAYS = 400;
export const MAX_BLOCKED_PERIODS = 12;
export const MAX_TENANT_AI_SEATS = 10_000;

export class BlockedPeriodDto {
  @ApiProperty({ example: '21:00', description: 'HH:mm, local time' })
  @IsString()
  @Matches(HHMM, { message: 'must be HH:mm' })
  start!: string;

  @ApiProperty({ example: '09:00', description: 'HH:mm; before start = wraps midnight (21:00–09:00)' })
  @IsString()
  @Matches(HHMM, { message: 'must be HH:mm' })
  end!: string;
}

export class FrequencyCapDto {
  @ApiProperty({ example: 3, minimum: 0, maximum: 100, description: 'calls to one number per local day; 0 = none' })
  @IsInt()
  @Min(0)
  @Max(100)
  perDay!: number;

  @ApiProperty({ example: 10, minimum: 0, maximum: 500, description: 'calls to one number per 7 local days; 0 = none' })
  @IsInt()
  @Min(0)
  @Max(500)
  perWeek!: number;
}

/** PUT /tenant/settings: a field given replaces the tenant's value, `null` returns it to the default, absent keeps it. */
export class UpdateTenantSettingsDto {
  @ApiPropertyOptional({
    type: [BlockedPeriodDto],
    nullable: true,
    example: [
      { start: '12:00', end: '14:00' },
      { start: '21:00', end: '09:00' },
    ],
    description: 'Platform blocked hours (禁呼时段): no call starts inside them; a period may wrap midnight; not empty',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: 'must list at least one blocked period (null returns to the configured default)' })
  @ArrayMaxSize(MAX_BLOCKED_PERIODS)
  @ValidateNested({ each: true })
  @Type(() => BlockedPeriodDto)
  blockedHours?: BlockedPeriodDto[] | null;

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    example: ['2025-10-01', '2025-10-02'],
    description: `Holidays: local dates yyyy-MM-dd on which nobody is called; at most ${MAX_HOLIDAYS}; replaces the list`,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_HOLIDAYS)
  @IsString({ each: true })
  holidays?: string[] | null;

  @ApiPropertyOptional({
    nullable: true,
    example: 50,
    minimum: 1,
    maximum: MAX_TENANT_AI_SEATS,
    description: 'The tenant’s AI-seat pool, shared by its running and paused tasks; not below the seats they hold',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TENANT_AI_SEATS)
  aiSeats?: number | null;

  @ApiPropertyOptional({ type: FrequencyCapDto, nullable: true, description: 'Frequency caps across all tasks' })
  @IsOptional()
  @ValidateNested()
  @Type(() => FrequencyCapDto)
  frequencyCap?: FrequencyCapDto | null;

  @ApiPropertyOptional({
    nullable: true,
    example: 'Asia/Shanghai',
    description: 'IANA zone: the default of new tasks, and the days the frequency cap counts',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timezone?: string | null;
}

/** PUT /tenant/holidays/{year}: the year's holidays, replacing that year's (other years are kept). */
export class YearHolidaysDto {
  @ApiProperty({ type: [String], example: ['2025-10-01', '2025-10-02', '2025-10-03'], description: 'yyyy-MM-dd' })
  @IsArray()
  @ArrayMaxSize(366)
  @IsString({ each: true })
  dates!: string[];
}

export class TenantSettingsDto {
  @ApiProperty({ example: 'demo' })
  tenantId!: string;

  @ApiProperty({ type: [BlockedPeriodDto] })
  blockedHours!: BlockedPeriodDto[];

  @ApiProperty({ type: [String], example: ['2025-10-01'] })
  holidays!: string[];

  @ApiProperty({ example: 50 })
  aiSeats!: number;

  @ApiProperty({ type: FrequencyCapDto })
  frequencyCap!: FrequencyCapDto;

  @ApiProperty({ example: 'Asia/Shanghai' })
  timezone!: string;

  @ApiProperty({
    enum: TENANT_SETTING_FIELDS,
    isArray: true,
    example: ['holidays', 'frequencyCap'],
    description: 'Fields that follow the configuration’s defaults (not set for this tenant)',
  })
  inherited!: string[];

  @ApiPropertyOptional({ example: '2026-03-05T09:30:00.000Z', description: 'Last change of the tenant’s own settings' })
  updatedAt?: Date;
}
