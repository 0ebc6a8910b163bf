/**
 * DTOs of the list routes (AttachTask's JSON variant, import reports, statistics, export, do-not-call list), with
 * explicit Swagger decorators and examples, as in api/tasks/task.dto.ts.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { AnswerCategory, CALL_RESULT_CODES } from '../../src/call-result';
import { PageMetaDto } from '../common/page.dto';

export class ContactDto {
  @ApiProperty({ example: '13800138000', description: 'Chinese mobile or landline, +86/0086 forms, or E.164' })
  @IsString()
  @MaxLength(64)
  phone!: string;

  @ApiPropertyOptional({ example: '张三', maxLength: 50 })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  name?: string;

  @ApiPropertyOptional({ example: 'Asia/Shanghai', description: 'IANA zone; default the task’s' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timezone?: string;

  @ApiPropertyOptional({
    example: { amount: '100', date: '7月1日' },
    description: 'Values of the prompt’s ${variables}: fewer than 150 characters each, no links',
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  @IsOptional()
  @IsObject()
  variables?: Record<string, string>;
}

export class AttachContactsDto {
  @ApiProperty({ type: [ContactDto], minItems: 1, maxItems: 10_000 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @ValidateNested({ each: true })
  @Type(() => ContactDto)
  contacts!: ContactDto[];
}

export class ImportReportDto {
  @ApiProperty({ example: 'imp_3f9c0a7d1e2b4c5d6e' })
  importId!: string;
  @ApiPropertyOptional({ example: '9b1f0c2d3e4a5b6c7d8e' })
  taskId?: string;
  @ApiProperty({ enum: ['accepted', 'rejected'], example: 'accepted' })
  status!: 'accepted' | 'rejected';
  @ApiProperty({ example: 1200, description: 'Data rows read (blank rows excluded)' })
  rows!: number;
  @ApiProperty({ example: 1150, description: 'Contacts stored by this import' })
  imported!: number;
  @ApiProperty({ example: 30, description: 'Rows dropped: number already earlier in the file' })
  duplicatesInFile!: number;
  @ApiProperty({ example: 20, description: 'Rows dropped: number already in the task' })
  duplicatesInTask!: number;
  @ApiProperty({ example: 3, description: 'Imported contacts on the tenant’s do-not-call list (never dialled)' })
  doNotCall!: number;
  @ApiProperty({ example: 0 })
  invalidRows!: number;
  @ApiProperty({ example: 0 })
  problemCount!: number;
  @ApiPropertyOptional({ example: 5150, description: 'The task’s contacts after the import' })
  totalContacts?: number;
}

export class ResultCountDto {
  @ApiProperty({ enum: CALL_RESULT_CODES, example: 'SUCCESS' })
  code!: string;
  @ApiProperty({ example: '呼叫成功' })
  label!: string;
  @ApiProperty({ example: 12, description: 'Attempts that ended with this result' })
  attempts!: number;
  @ApiProperty({ example: 10, description: 'Contacts whose latest attempt has this result' })
  contacts!: number;
}

export class TaskStatisticsDto {
  @ApiProperty({ example: 100, description: '任务总数' })
  total!: number;
  @ApiProperty({ example: 40, description: '已拨打: contacts dialled at least once' })
  dialled!: number;
  @ApiProperty({ example: 30, description: '已经接通' })
  answered!: number;
  @ApiProperty({ example: 0.75, description: '平均接通率: answered / dialled (0–1)' })
  connectRate!: number;
  @ApiProperty({ example: 6.5, description: '平均通话时长(秒)' })
  averageTalkSeconds!: number;
  @ApiProperty({ example: 48 })
  attempts!: number;
  @ApiProperty({ example: 8, description: '重拨次数: attempts after each contact’s first' })
  redials!: number;
  @ApiProperty({ example: 2, description: 'Contacts flagged as do-not-call at import' })
  doNotCall!: number;
  @ApiProperty({ type: [ResultCountDto], description: 'The ten results of seed §3.3, in order' })
  results!: ResultCountDto[];
  @ApiProperty({
    description: '接听状态统计: contacts per donut category (they add up to total)',
    example: { 未开始: 60, 已经接通: 30, 号码问题: 8, 线路问题: 2 },
    type: 'object',
    properties: Object.fromEntries(Object.values(AnswerCategory).map((c) => [c, { type: 'integer' }])),
  })
  categories!: Record<string, number>;
}

export class ExportQueryDto {
  @ApiPropertyOptional({ enum: ['xlsx', 'csv'], default: 'xlsx' })
  @IsOptional()
  @IsIn(['xlsx', 'csv'])
  format?: 'xlsx' | 'csv';
}

export class DncEntryInputDto {
  @ApiProperty({ example: '13800138000' })
  @IsString()
  @MaxLength(64)
  phone!: string;

  @ApiPropertyOptional({ example: '用户要求不再来电', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  note?: string;
}

export class DncAddDto {
  @ApiProperty({ type: [DncEntryInputDto], minItems: 1, maxItems: 10_000 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @ValidateNested({ each: true })
  @Type(() => DncEntryInputDto)
  entries!: DncEntryInputDto[];
}

export class DncEntryDto {
  @ApiProperty({ example: '+8613800138000' })
  phone!: string;
  @ApiPropertyOptional({ example: '用户要求不再来电' })
  note?: string;
  @ApiProperty({ example: '2025-07-01T08:00:00.000Z' })
  createdAt!: Date;
}

export class DncPageDto extends PageMetaDto {
  @ApiProperty({ type: [DncEntryDto] })
  items!: DncEntryDto[];
}

export class DncAddResultDto {
  @ApiProperty({ example: 2, description: 'Entries read' })
  received!: number;
  @ApiProperty({ example: 1, description: 'Numbers newly listed (the rest were listed already)' })
  added!: number;
}

/** CheckDoNotCall's answer. */
export class DncCheckDto {
  @ApiProperty({ example: '+8613800138000', description: 'The number in E.164' })
  phone!: string;
  @ApiProperty({ description: 'On the tenant’s do-not-call list' })
  listed!: boolean;
}
