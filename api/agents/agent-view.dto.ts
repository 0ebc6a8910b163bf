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
  @ApiProperty({ example: 'k3x9q2m7a1-0-1' })
  attemptId!: string;
  @ApiProperty({ example: '3f9c0a7d1e2b' })
  agentId!: string;
  @ApiProperty({ enum: WRAP_UP_OUTCOMES })
  outcome!: string;
  @ApiProperty({ example: '客户要求下周再联系' })
  remark!: string;
  @ApiProperty({ example: '2026-03-05T09:31:00.000Z' })
  createdAt!: Date;
  @ApiProperty({ example: '2026-03-05T09:32:00.000Z' })
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
  @ApiProperty({ example: '2026-03-05T09:30:00.000Z' })
  since!: Date;
  @ApiProperty({
    example: '2026-03-05T09:31:00.000Z',
    nullable: true,
    type: Date,
    description: 'When it ends by itself; null = until the agent resumes',
  })
  endsAt!: Date | null;
  @ApiProperty({ example: 12 })
  elapsedSeconds!: number;
}

export class MyStateDto extends AgentStateDto {
  @ApiProperty({ nullable: true, type: AfterCallWorkTimerDto, description: '话后处理 timer, while in after-call work' })
  afterCallWork!: AfterCallWorkTimerDto | null;
}

export class QueueLengthDto {
  @ApiProperty({ example: 'sg-3f9c0a7d1e2b' })
  skillGroupId!: string;
  @ApiProperty({ example: 'sales_east' })
  name!: string;
  @ApiProperty({ example: '华东销售' })
  displayName!: string;
  @ApiProperty({ example: 3, description: '排队: callers waiting for an agent' })
  waiting!: number;
  @ApiProperty({ example: 1, description: 'callers whose offer rings an agent now' })
  offered!: number;
}

export class QueueLengthsDto {
  @ApiProperty({ type: [QueueLengthDto] })
  items!: QueueLengthDto[];
}
