/**
 * DTOs of the agent's own view (`/agents/me/…`, api/agents/agent-view.controller.ts). The response classes are the
 * return types of AgentViewService, so the OpenAPI document and the answers cannot drift apart unnoticed (tsc).
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { CALL_RESULT_CODES } from '../../src/call-result';
import { DialogEndDto, DialogTurnDto } from '../calls/dialog.dto';
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

// ---- GetMyOffer (新的来电, the screen pop) ----

/** Where the dialog shown to the agent comes from. */
export const DIALOG_SOURCES = ['record', 'history', 'none'] as const;

/** The robot's dialog with the callee, as far as it is known. */
export class AgentDialogDto {
  @ApiProperty({
    enum: DIALOG_SOURCES,
    example: 'record',
    description:
      'record: the stored dialog record (the call has ended); history: the turns in the contact workflow’s history ' +
      'while the call is live (the turn that decided the transfer may be missing); none: no dialog known',
  })
  source!: (typeof DIALOG_SOURCES)[number];
  @ApiPropertyOptional({ example: ['意向客户'], type: [String], description: 'Only with source record' })
  tags?: string[];
  @ApiPropertyOptional({ type: DialogEndDto, description: 'How the dialog ended; only with source record' })
  end?: DialogEndDto;
  @ApiProperty({ type: [DialogTurnDto] })
  turns!: DialogTurnDto[];
}

export class OfferedContactDto {
  @ApiProperty({ example: 0, description: 'The contact’s 0-based position in the task’s list' })
  index!: number;
  @ApiProperty({ example: '+8613800138000', description: 'In full: the agent talks to this number' })
  phone!: string;
  @ApiPropertyOptional({ example: '张三', description: '用户名称' })
  name?: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { custName: '张三', shopName: '小王的店' },
    description: 'The list row’s variables (its extra columns)',
  })
  variables!: Record<string, string>;
  @ApiProperty({ example: 1, description: 'Attempts made to this contact so far' })
  attempts!: number;
}

export const OFFER_PHASES = ['offered', 'talking'] as const;

export class OfferedCallDto {
  @ApiProperty({ example: 'k3x9q2m7a1-0-1', description: 'The call (attempt) id' })
  attemptId!: string;
  @ApiProperty({ example: 'k3x9q2m7a1', nullable: true, type: String })
  taskId!: string | null;
  @ApiProperty({ example: '三月回访', nullable: true, type: String })
  taskName!: string | null;
  @ApiProperty({
    example: 'sg-3f9c0a7d1e2b',
    nullable: true,
    type: String,
    description: 'The agent’s skill group the call came through; null once the queue no longer holds the call',
  })
  skillGroupId!: string | null;
  @ApiProperty({
    enum: OFFER_PHASES,
    nullable: true,
    example: 'offered',
    description: 'offered: the agent’s phone rings; talking: bridged with the callee; null: not known to the queue',
  })
  phase!: (typeof OFFER_PHASES)[number] | null;
  @ApiProperty({ example: '2026-03-05T09:30:00.000Z', description: 'When the call was offered to the agent' })
  offeredAt!: Date;
  @ApiProperty({
    example: '+8613800138000',
    nullable: true,
    type: String,
    description: '主叫号码, in full (the agent talks to it)',
  })
  phone!: string | null;
  @ApiProperty({
    example: '2026-03-05T09:28:41.000Z',
    nullable: true,
    type: Date,
    description: 'When the callee answered',
  })
  answeredAt!: Date | null;
  @ApiProperty({ type: OfferedContactDto, nullable: true, description: 'The contact’s row of the list' })
  contact!: OfferedContactDto | null;
  @ApiProperty({ type: AgentDialogDto, description: 'The robot’s dialog so far' })
  dialog!: AgentDialogDto;
}

export class MyOfferDto {
  @ApiProperty({ example: '3f9c0a7d1e2b' })
  agentId!: string;
  @ApiProperty({ type: AgentStateDto })
  state!: AgentStateDto;
  @ApiProperty({
    type: OfferedCallDto,
    nullable: true,
    description: 'The call offered to or connected with the agent now; null when none',
  })
  call!: OfferedCallDto | null;
}

// ---- ListMyCalls ----

export const MY_CALL_KINDS = ['handled', 'missed', 'current'] as const;

export class MyCallWrapUpDto {
  @ApiProperty({ enum: WRAP_UP_OUTCOMES, example: 'followUp' })
  outcome!: (typeof WRAP_UP_OUTCOMES)[number];
  @ApiProperty({ example: '客户要求明天上午回电' })
  remark!: string;
  @ApiProperty({ example: '2026-03-05T09:32:00.000Z' })
  updatedAt!: Date;
}

/** One call of the agent; the call record's fields are absent while no call record exists. */
export class MyCallDto {
  @ApiProperty({ example: 'k3x9q2m7a1-0-1' })
  attemptId!: string;
  @ApiProperty({ example: 'k3x9q2m7a1', nullable: true, type: String })
  taskId!: string | null;
  @ApiProperty({
    enum: MY_CALL_KINDS,
    example: 'handled',
    description: 'handled: the agent talked with the callee; missed: offered, not answered (小休); current: on now',
  })
  kind!: (typeof MY_CALL_KINDS)[number];
  @ApiProperty({
    example: '2026-03-05T09:31:00.000Z',
    description: 'When the call ended for the agent (current: when it was offered)',
  })
  at!: Date;
  @ApiPropertyOptional({ example: '+86138****8000', description: 'Masked' })
  phone?: string;
  @ApiPropertyOptional({ enum: CALL_RESULT_CODES, nullable: true, example: 'SUCCESS' })
  result?: string | null;
  @ApiPropertyOptional({ example: '呼叫成功', nullable: true, type: String })
  resultLabel?: string | null;
  @ApiPropertyOptional({ example: '2026-03-05T09:28:30.000Z', nullable: true, type: Date })
  startedAt?: Date | null;
  @ApiPropertyOptional({ example: '2026-03-05T09:28:41.000Z', nullable: true, type: Date })
  answeredAt?: Date | null;
  @ApiPropertyOptional({ example: '2026-03-05T09:31:00.000Z', nullable: true, type: Date })
  endedAt?: Date | null;
  @ApiPropertyOptional({ example: 139, nullable: true, type: Number })
  talkSeconds?: number | null;
  @ApiProperty({ type: MyCallWrapUpDto, nullable: true, description: '服务小记; null until the agent writes one' })
  wrapUp!: MyCallWrapUpDto | null;
}

export class MyCallsDto {
  @ApiProperty({ example: '3f9c0a7d1e2b' })
  agentId!: string;
  @ApiProperty({ example: 7, description: 'How many UTC days back (today included)' })
  days!: number;
  @ApiProperty({ type: [MyCallDto], description: 'Newest first, at most 200' })
  items!: MyCallDto[];
}

// ---- GetMyCallDialog ----

export class MyCallDialogDto extends AgentDialogDto {
  @ApiProperty({ example: 'k3x9q2m7a1-0-1' })
  attemptId!: string;
}

// ---- StreamMyEvents (text/event-stream) ----

export class EventProblemDto {
  @ApiProperty({ example: 'agent 3f9c0a7d1e2b not found', description: 'Why a read failed; the stream goes on' })
  detail!: string;
}

/**
 * The events of StreamMyEvents, as the controller emits them (Nest writes `type` as the SSE `event:` field and
 * `data` as JSON).
 */
export type MyEvent =
  | { type: 'state'; data: MyStateDto }
  | { type: 'offer'; data: MyOfferDto }
  | { type: 'queue'; data: QueueLengthsDto }
  | { type: 'problem'; data: EventProblemDto };

/** The fields of one server-sent event as they appear on the wire (`id:`, `event:`, `data:` lines). */
class SseEventDto {
  @ApiProperty({ example: '1', description: 'The SSE id: a counter per stream' })
  id!: string;
}

export class MyStateEventDto extends SseEventDto {
  @ApiProperty({ enum: ['state'], example: 'state' })
  event!: 'state';
  @ApiProperty({ type: MyStateDto, description: 'GetMyState’s body' })
  data!: MyStateDto;
}

export class MyOfferEventDto extends SseEventDto {
  @ApiProperty({ enum: ['offer'], example: 'offer' })
  event!: 'offer';
  @ApiProperty({ type: MyOfferDto, description: 'GetMyOffer’s body' })
  data!: MyOfferDto;
}

export class MyQueueEventDto extends SseEventDto {
  @ApiProperty({ enum: ['queue'], example: 'queue' })
  event!: 'queue';
  @ApiProperty({ type: QueueLengthsDto, description: 'ListMyQueues’s body' })
  data!: QueueLengthsDto;
}

export class MyProblemEventDto extends SseEventDto {
  @ApiProperty({ enum: ['problem'], example: 'problem' })
  event!: 'problem';
  @ApiProperty({ type: EventProblemDto })
  data!: EventProblemDto;
}

/** The event classes of StreamMyEvents, for @ApiExtraModels and the response's oneOf. */
export const MY_EVENT_DTOS = [MyStateEventDto, MyOfferEventDto, MyQueueEventDto, MyProblemEventDto] as const;
