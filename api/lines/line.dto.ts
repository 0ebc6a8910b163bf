/**
 * DTOs of the line and caller-number routes (seed §6.2 自有线路管理 / 自有号码管理, §6.3 号码组 and 呼出生效范围), with
 * explicit Swagger decorators as in api/tasks/task.dto.ts.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { ListQueryDto } from '../tasks/task.dto';
import { PageMetaDto } from '../common/page.dto';

/** host[:port]: an IPv4 address or a DNS name, port 1–65535 (default 5060). */
export const SIP_ADDRESS =
  /^(?=.{1,253}(:|$))[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d{1,5})?$/;
/** At most 300 numbers per request (seed §6.2 "单次最多可添加300个号码"). */
export const MAX_NUMBERS_PER_REQUEST = 300;
export const MAX_LINE_CONCURRENCY = 10_000;
export const OUTBOUND_SCOPES = ['ALL', 'SOME'] as const;
export const NUMBER_STATUSES = ['VALID', 'INVALID'] as const;

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateLineDto {
  @ApiProperty({ example: '上海电信线路1', description: '线路名称, 1–50 characters, unique within the tenant' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  name!: string;

  @ApiProperty({
    example: '10.1.2.3:5060',
    description:
      '线路地址: the carrier’s SIP signalling address, host[:port] (port default 5060); IP whitelisted both ways',
  })
  @Transform(trimmed)
  @IsString()
  @Matches(SIP_ADDRESS, { message: 'must be host[:port], e.g. 10.1.2.3:5060' })
  address!: string;

  @ApiProperty({ example: 100, minimum: 1, maximum: MAX_LINE_CONCURRENCY, description: '总并发 across all tasks' })
  @IsInt()
  @Min(1)
  @Max(MAX_LINE_CONCURRENCY)
  concurrency!: number;

  @ApiPropertyOptional({ default: true, description: '启用状态' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateLineDto {
  @ApiPropertyOptional({ example: '上海电信线路1' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  name?: string;

  @ApiPropertyOptional({ example: '10.1.2.3:5060' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @Matches(SIP_ADDRESS, { message: 'must be host[:port], e.g. 10.1.2.3:5060' })
  address?: string;

  @ApiPropertyOptional({ example: 100, minimum: 1, maximum: MAX_LINE_CONCURRENCY })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_LINE_CONCURRENCY)
  concurrency?: number;

  @ApiPropertyOptional({ description: 'false = disable (refused while a live task dials from the line’s numbers)' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class LineDto {
  @ApiProperty({ example: 'line-3f9c0a7d1e2b', description: 'Also the PJSIP endpoint name in Asterisk' })
  id!: string;
  @ApiProperty({ example: '上海电信线路1' })
  name!: string;
  @ApiProperty({ example: '10.1.2.3:5060' })
  address!: string;
  @ApiProperty({ example: 100 })
  concurrency!: number;
  @ApiProperty({ example: true })
  enabled!: boolean;
  @ApiProperty({ example: 3, description: 'Calls holding a slot of the line now (all tasks and tenants)' })
  inUse!: number;
  @ApiProperty({ example: '2026-03-02T08:00:00.000Z' })
  createdAt!: Date;
  @ApiProperty({ example: '2026-03-05T09:30:00.000Z' })
  updatedAt!: Date;
}

export class LinePageDto extends PageMetaDto {
  @ApiProperty({ type: [LineDto] })
  items!: LineDto[];
}

/** "一行输入一个号码": a string is split into one number per line. */
const numbersList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(/\r?\n/)
        .map((s) => s.trim())
        .filter(Boolean)
    : value;

export class AddCallerNumbersDto {
  @ApiProperty({
    example: ['02150001234', '+862150001235'],
    description: `1–${MAX_NUMBERS_PER_REQUEST} numbers (an array, or one string with a number per line)`,
    type: [String],
  })
  @Transform(numbersList)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_NUMBERS_PER_REQUEST)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  numbers!: string[];

  @ApiProperty({ example: 'line-3f9c0a7d1e2b', description: 'The tenant’s line the numbers belong to' })
  @IsString()
  @MaxLength(64)
  lineId!: string;

  @ApiPropertyOptional({ example: '华东号码组', description: '号码组' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  numberGroup?: string;

  @ApiPropertyOptional({ enum: OUTBOUND_SCOPES, default: 'ALL', description: '呼出生效范围: all or some skill groups' })
  @IsOptional()
  @IsIn(OUTBOUND_SCOPES)
  outboundScope?: (typeof OUTBOUND_SCOPES)[number];

  @ApiPropertyOptional({
    example: ['sales'],
    description: 'Skill groups that may use the numbers; required (non-empty) when outboundScope is SOME',
    type: [String],
  })
  @ValidateIf((o: AddCallerNumbersDto) => o.outboundScope === 'SOME' || o.skillGroups !== undefined)
  @IsArray()
  @ArrayMinSize(1, { message: 'skillGroups must name at least one skill group when outboundScope is SOME' })
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(64, { each: true })
  skillGroups?: string[];

  @ApiPropertyOptional({ enum: NUMBER_STATUSES, default: 'VALID', description: '有效 / 无效' })
  @IsOptional()
  @IsIn(NUMBER_STATUSES)
  status?: (typeof NUMBER_STATUSES)[number];
}

export class UpdateCallerNumberDto {
  @ApiPropertyOptional({ example: 'line-3f9c0a7d1e2b' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  lineId?: string;

  @ApiPropertyOptional({ example: '华东号码组', nullable: true, description: 'null removes the number from its group' })
  @IsOptional()
  @Transform(trimmed)
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  numberGroup?: string | null;

  @ApiPropertyOptional({ enum: OUTBOUND_SCOPES })
  @IsOptional()
  @IsIn(OUTBOUND_SCOPES)
  outboundScope?: (typeof OUTBOUND_SCOPES)[number];

  @ApiPropertyOptional({ example: ['sales'], type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(64, { each: true })
  skillGroups?: string[];

  @ApiPropertyOptional({ enum: NUMBER_STATUSES })
  @IsOptional()
  @IsIn(NUMBER_STATUSES)
  status?: (typeof NUMBER_STATUSES)[number];
}

export class CallerNumberDto {
  @ApiProperty({ example: '+862150001234' })
  number!: string;
  @ApiProperty({ example: 'line-3f9c0a7d1e2b' })
  lineId!: string;
  @ApiPropertyOptional({ example: '华东号码组' })
  numberGroup?: string;
  @ApiProperty({ enum: OUTBOUND_SCOPES })
  outboundScope!: string;
  @ApiProperty({ example: [], type: [String] })
  skillGroups!: string[];
  @ApiProperty({ enum: NUMBER_STATUSES })
  status!: string;
  @ApiProperty({ example: '2026-03-02T08:00:00.000Z' })
  createdAt!: Date;
  @ApiProperty({ example: '2026-03-05T09:30:00.000Z' })
  updatedAt!: Date;
}

export class CallerNumberPageDto extends PageMetaDto {
  @ApiProperty({ type: [CallerNumberDto] })
  items!: CallerNumberDto[];
}

export class AddCallerNumbersResultDto {
  @ApiProperty({ example: 2 })
  added!: number;
  @ApiProperty({ type: [CallerNumberDto] })
  items!: CallerNumberDto[];
}

export class CallerNumberQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ example: 'line-3f9c0a7d1e2b' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  lineId?: string;

  @ApiPropertyOptional({ example: '华东号码组' })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  numberGroup?: string;
}
