/**
 * CreateTask's definition (seed-spec §2.1). The Swagger plugin is not used for these: the decorators are explicit
 * so the OpenAPI document and the validation come from one place.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { CALL_RESULT_CODES, type CallResultCode } from '../../src/call-result';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export class PeriodDto {
  @ApiProperty({ example: '09:00', description: 'HH:mm, local time' })
  @Matches(HHMM, { message: 'must be HH:mm' })
  start!: string;

  @ApiProperty({ example: '12:00', description: 'HH:mm, local time; after start' })
  @Matches(HHMM, { message: 'must be HH:mm' })
  end!: string;
}

export class RetryDto {
  @ApiProperty({ enum: CALL_RESULT_CODES, isArray: true, example: ['BUSY', 'NO_ANSWER'] })
  @IsArray()
  @ArrayUnique()
  @IsIn(CALL_RESULT_CODES.filter((c) => c !== 'SUCCESS'), {
    each: true,
    message: 'each reason must be a failure result code',
  })
  reasons!: CallResultCode[];

  @ApiProperty({ minimum: 0, maximum: 3, example: 1 })
  @IsInt()
  @Min(0)
  @Max(3)
  maxRetries!: number;

  @ApiProperty({ minimum: 1, maximum: 180, example: 30 })
  @IsInt()
  @Min(1)
  @Max(180)
  intervalMinutes!: number;
}

/** 转人工 options of a task with a script: the queue timeout and what follows it. */
export class TransferOptionsDto {
  @ApiPropertyOptional({
    minimum: 5,
    maximum: 3600,
    example: 60,
    description: 'How long a transferred callee waits for an agent before the fallback (default from the config)',
  })
  @IsOptional()
  @IsInt()
  @Min(5)
  @Max(3600)
  queueTimeoutSeconds?: number;

  @ApiPropertyOptional({
    enum: ['HANGUP', 'ROBOT'],
    example: 'ROBOT',
    description:
      'After the queue timeout and its prompt: hang up (default), or back to the robot at `fallbackFlowId`, ' +
      'once per call',
  })
  @IsOptional()
  @IsIn(['HANGUP', 'ROBOT'])
  onQueueTimeout?: 'HANGUP' | 'ROBOT';

  @ApiPropertyOptional({
    example: 'flow_callback',
    description: 'With ROBOT: the main flow of the task’s script the robot continues at (required then)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  fallbackFlowId?: string;

  @ApiPropertyOptional({
    maxLength: 500,
    example: '人工客服暂时都在忙，我先继续为您服务。',
    description: 'What the callee hears at the queue timeout (default: a goodbye, or with ROBOT a hand-back line)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  timeoutPrompt?: string;
}

export class CreateTaskDto {
  @ApiProperty({ maxLength: 30, example: '回访任务_1', description: 'Chinese, English letters, digits, underscore' })
  @IsString()
  @Matches(/^[\u4e00-\u9fa5A-Za-z0-9_]{1,30}$/, {
    message: 'must be 1–30 characters of Chinese, English letters, digits or underscore',
  })
  name!: string;

  @ApiPropertyOptional({ maxLength: 500, description: '清单说明' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({ default: true, description: 'Start as soon as the task is saved (立即生效)' })
  @IsOptional()
  @IsBoolean()
  effectiveImmediately?: boolean;

  @ApiPropertyOptional({
    example: '2026-12-01T01:30:00Z',
    description: 'Scheduled start (ISO 8601 instant); with effectiveImmediately the campaign waits until then',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  startAt?: string;

  @ApiPropertyOptional({ default: 1, minimum: 1, description: 'AI seats: the task’s concurrency' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  aiSeats?: number;

  @ApiProperty({ example: [1, 2, 3, 4, 5], description: 'ISO weekdays, 1 = Monday … 7 = Sunday' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(7, { each: true })
  workingDays!: number[];

  @ApiProperty({ type: [PeriodDto], description: 'Several working windows per day, not overlapping' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @ValidateNested({ each: true })
  @Type(() => PeriodDto)
  workingWindows!: PeriodDto[];

  @ApiPropertyOptional({ example: 'Asia/Shanghai', description: 'IANA zone; default the tenant’s' })
  @IsOptional()
  @IsString()
  timezone?: string;

  @ApiPropertyOptional({ type: RetryDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RetryDto)
  retry?: RetryDto;

  @ApiPropertyOptional({
    maxLength: 500,
    description: 'What the robot says to an answered callee (until scripts land)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  prompt?: string;

  @ApiPropertyOptional({
    example: 'a1b2c3d4e5f6',
    description: 'The robot script (话术) to run on answered calls; without one the robot says `prompt` and hangs up',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  scriptId?: string;

  @ApiPropertyOptional({
    minimum: 1,
    description: 'The approved version of `scriptId` to pin; default: its latest approved version',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  scriptVersion?: number;

  @ApiPropertyOptional({
    type: [String],
    example: ['+8657100000001', '+8657100000002'],
    description:
      '主叫号码: registered caller numbers (E.164, see /caller-numbers). Calls rotate over them and go out through ' +
      'their lines, within each line’s concurrency. Without them, calls use the default trunk.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(/^\+\d{3,20}$/, { each: true, message: 'each must be an E.164 number (+ and digits)' })
  callerNumbers?: string[];

  @ApiPropertyOptional({
    type: TransferOptionsDto,
    description: '转人工: queue timeout and its fallback (needs scriptId)',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => TransferOptionsDto)
  transfer?: TransferOptionsDto;

  @ApiPropertyOptional({
    default: false,
    description:
      'Answering-machine detection (Asterisk AMD) on answered calls: a machine gets no robot, the call is hung up and ' +
      'recorded as 呼叫成功 / 答录机; every call records the verdict (HUMAN, MACHINE, NOTSURE).',
  })
  @IsOptional()
  @IsBoolean()
  answeringMachineDetection?: boolean;

  @ApiPropertyOptional({ example: '057100000000', description: 'Caller number shown to the callee' })
  @IsOptional()
  @Matches(/^\+?\d{3,20}$/, { message: 'must be digits with an optional leading +' })
  callerNumber?: string;
}

export class ListQueryDto {
  @ApiPropertyOptional({ default: 1, minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  page?: number;

  @ApiPropertyOptional({ default: 20, minimum: 1, maximum: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  pageSize?: number;
}

export class DetailQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ enum: CALL_RESULT_CODES, description: '通话结果 filter' })
  @IsOptional()
  @IsIn(CALL_RESULT_CODES)
  result?: CallResultCode;

  @ApiPropertyOptional({
    example: '13800138000',
    description:
      '被叫号码 filter: a full number (national or E.164) finds that number (one hash bucket read, fast at any size); ' +
      'other digits find every number that contains them (reads every phone bucket: seconds at a million contacts)',
  })
  @IsOptional()
  @Matches(/^\+?\d{1,20}$/)
  phone?: string;
}
