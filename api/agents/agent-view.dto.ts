/** DTOs of the agent's own view (`/agents/me/…`, api/agents/agent-view.controller.ts). */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { AgentStateDto } from './agent.dto';

export const WRAP_UP_OUTCOMES = ['resolved', 'followUp'] as const;

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class WrapUpDto {
  @ApiProperty({ enum: WRAP_UP_OUTCOMES, description: '解决状态: resolved (解决) or followUp (待跟进)' })
  @IsIn(WRAP_UP_OUTCOMES)
  outcome!: (typeof WRAP_UP_OUTCOMES)[number];

  @ApiPropertyOptional({ maxLength: 500, description: '备注', example: '客户要求明天上午回电' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MaxLength(500)
  remark?: string;
}

export class WrapUpViewDto {
  @ApiProperty()
  attemptId!: string;
  @ApiProperty()
  agentId!: string;
  @ApiProperty({ enum: WRAP_UP_OUTCOMES })
  outcome!: string;
  @ApiProperty()
  remark!: string;
  @ApiProperty()
  createdAt!: Date;
  @ApiProperty()
  updatedAt!: Date;
}

export class MyCallsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 31, default: 7, description: 'How many UTC days back (today included)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(31)
  days?: number;
}

export class AfterCallWorkTimerDto {
  @ApiProperty()
  since!: Date;
  @ApiProperty({ nullable: true, type: Date, description: 'When it ends by itself; null = until the agent resumes' })
  endsAt!: Date | null;
  @ApiProperty()
  elapsedSeconds!: number;
}

export class MyStateDto extends AgentStateDto {
  @ApiProperty({ nullable: true, type: AfterCallWorkTimerDto, description: '话后处理 timer, while in after-call work' })
  afterCallWork!: AfterCallWorkTimerDto | null;
}

export class QueueLengthDto {
  @ApiProperty()
  skillGroupId!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty()
  displayName!: string;
  @ApiProperty({ description: '排队: callers waiting for an agent' })
  waiting!: number;
  @ApiProperty({ description: 'callers whose offer rings an agent now' })
  offered!: number;
}

export class QueueLengthsDto {
  @ApiProperty({ type: [QueueLengthDto] })
  items!: QueueLengthDto[];
}
