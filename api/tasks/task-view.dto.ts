/**
 * What the task routes answer (CreateTask, ListTask, GetTask, ListTaskDetail, the campaign commands, ForecastTask):
 * response shapes for the OpenAPI document only. They mirror TasksService.view / details and
 * CampaignService.forecast; nothing validates or builds them at run time.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AnswerCategory, CALL_RESULT_CODES, HangupBy } from '../../src/call-result';
import { ImportReportDto } from '../lists/list.dto';
import { TaskStatisticsViewDto } from './task-statistics.dto';
import { PeriodDto, RetryDto } from './task.dto';
import { PageMetaDto } from '../common/page.dto';
import { HandoverDto } from '../calls/call-control.dto';

const TASK_STATUSES = ['NOT_STARTED', 'RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED'];

export class CallingCalendarDto {
  @ApiProperty({ example: 'Asia/Shanghai', description: 'IANA zone of the windows' })
  timezone!: string;
  @ApiProperty({ example: [1, 2, 3, 4, 5], description: 'ISO weekdays, 1 = Monday … 7 = Sunday' })
  workingDays!: number[];
  @ApiProperty({ type: [PeriodDto], description: 'Working windows within a day' })
  windows!: PeriodDto[];
  @ApiProperty({
    type: [PeriodDto],
    description: 'Platform blocked hours; may wrap midnight',
    example: [{ start: '21:00', end: '08:00' }],
  })
  blocked!: PeriodDto[];
  @ApiPropertyOptional({ example: ['2025-10-01'], description: 'Local dates (yyyy-MM-dd) on which nobody is called' })
  holidays?: string[];
}

export class TaskStoredStatsDto {
  @ApiProperty({ example: 48, description: 'Attempts dialled' })
  attempts!: number;
  @ApiProperty({ example: 46, description: 'Attempts finished' })
  finished!: number;
  @ApiProperty({ example: 30 })
  answered!: number;
  @ApiProperty({ example: 195, description: 'Talk seconds over all answered attempts' })
  talkSeconds!: number;
  @ApiProperty({
    type: 'object',
    description: 'Attempts by result code, with the result’s label',
    additionalProperties: {
      type: 'object',
      properties: { label: { type: 'string' }, count: { type: 'integer' } },
    },
    example: { SUCCESS: { label: '呼叫成功', count: 30 }, BUSY: { label: '用户忙', count: 8 } },
  })
  byResult!: Record<string, { label: string; count: number }>;
  @ApiPropertyOptional({ example: 40, description: 'Contacts with at least one attempt' })
  dialled?: number;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'Contacts by the result of their latest attempt',
    example: { SUCCESS: 30, BUSY: 6, NO_ANSWER: 4 },
  })
  latest?: Record<string, number>;
  @ApiPropertyOptional({ example: 6, description: 'Attempts handed to the agents’ queue (absent before the first)' })
  transferred?: number;
  @ApiPropertyOptional({ example: 5, description: 'Transferred attempts an agent took (absent before the first)' })
  transferConnected?: number;
}

export class CampaignProgressDto {
  @ApiProperty({ enum: TASK_STATUSES, example: 'RUNNING' })
  status!: string;
  @ApiProperty({ example: 100, description: 'Contacts in the campaign' })
  total!: number;
  @ApiProperty({ example: 44, description: 'Contacts handed to a call so far' })
  dispatched!: number;
  @ApiProperty({ example: 2, description: 'Calls in progress' })
  live!: number;
  @ApiProperty({
    example: 1,
    description: 'Calls holding an AI seat: dialling or with the robot (a call an agent took holds none)',
  })
  dialling!: number;
  @ApiProperty({ example: 0, description: 'Contacts waiting for a free seat' })
  waitingForSeat!: number;
  @ApiProperty({ example: 40 })
  finished!: number;
  @ApiProperty({ example: 2, description: 'AI seats the campaign uses' })
  seats!: number;
  @ApiProperty({ example: 2, description: 'Most calls dialling at once so far' })
  peakDialling!: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { SUCCESS: 30, BUSY: 6, NO_ANSWER: 4 },
  })
  byResult!: Record<string, number>;
  @ApiProperty({ example: 0, description: 'Continue-as-new generation of the campaign workflow' })
  generation!: number;
}

export class TaskViewDto {
  @ApiProperty({ example: '9b1f0c2d3e4a5b6c7d8e' })
  id!: string;
  @ApiProperty({ example: '回访任务_1' })
  name!: string;
  @ApiProperty({ example: '七月新客户回访' })
  description!: string;
  @ApiProperty({ enum: TASK_STATUSES, example: 'NOT_STARTED' })
  status!: string;
  @ApiProperty()
  effectiveImmediately!: boolean;
  @ApiProperty({ example: 2 })
  aiSeats!: number;
  @ApiPropertyOptional({ example: '2025-07-01T09:00:00.000Z', description: 'Scheduled start' })
  startAt?: string;
  @ApiPropertyOptional({
    example: 60,
    description: 'Set by CancelTask: contacts from this index on were never dialled',
  })
  cancelledFrom?: number;
  @ApiProperty({ type: CallingCalendarDto })
  calendar!: CallingCalendarDto;
  @ApiProperty({ type: RetryDto })
  retry!: RetryDto;
  @ApiProperty({ example: 100 })
  totalContacts!: number;
  @ApiProperty({ example: 3, description: 'Duplicate numbers dropped from the lists' })
  duplicatesRemoved!: number;
  @ApiProperty({ example: 2, description: 'Contacts flagged as do-not-call at import' })
  doNotCall!: number;
  @ApiProperty({ type: TaskStoredStatsDto })
  stats!: TaskStoredStatsDto;
  @ApiProperty({ type: TaskStatisticsViewDto })
  statistics!: TaskStatisticsViewDto;
  @ApiProperty({ example: 'task/9b1f0c2d3e4a5b6c7d8e' })
  workflowId!: string;
  @ApiProperty({
    example: 'http://localhost:8233/namespaces/default/workflows/task%2F9b1f0c2d3e4a5b6c7d8e',
    description: 'The campaign workflow in the Temporal UI',
  })
  temporalUiUrl!: string;
  @ApiProperty({ example: '2025-07-01T08:00:00.000Z' })
  createdAt!: string;
  @ApiProperty({ example: '2025-07-01T08:05:00.000Z' })
  updatedAt!: string;
  @ApiPropertyOptional({ type: CampaignProgressDto, description: 'Live progress while the campaign runs' })
  progress?: CampaignProgressDto;
}

export class CreatedTaskDto extends TaskViewDto {
  @ApiProperty({ type: ImportReportDto, description: 'The call list’s import' })
  import!: ImportReportDto;
}

export class TaskPageDto extends PageMetaDto {
  @ApiProperty({ type: [TaskViewDto] })
  items!: TaskViewDto[];
}

export class TransferSecondsDto {
  @ApiPropertyOptional({ example: 35 })
  robot?: number;
  @ApiPropertyOptional({ example: 8 })
  queueWait?: number;
  @ApiPropertyOptional({ example: 120 })
  human?: number;
}

export class TaskDetailRowDto {
  @ApiProperty({ example: 0, description: '0-based position in the task’s list' })
  index!: number;
  @ApiProperty({ example: '+86138****8000', description: 'E.164; masked for auditors' })
  phone!: string;
  @ApiPropertyOptional({ example: '张三' })
  name?: string;
  @ApiProperty({ example: 2 })
  attempts!: number;
  @ApiProperty({ example: 1, description: '重拨次数: redials after the first attempt' })
  redials!: number;
  @ApiProperty({
    enum: Object.values(AnswerCategory),
    example: '已经接通',
    description: 'Answer status of the latest result',
  })
  category!: string;
  @ApiPropertyOptional({
    example: 'NO_OPENING',
    description: 'Why the contact was not dialled (NO_OPENING, DO_NOT_CALL, CANCELLED)',
  })
  skipped?: string;
  @ApiPropertyOptional({ description: 'On the do-not-call list at import: never dialled' })
  doNotCall?: boolean;
  @ApiPropertyOptional({ enum: CALL_RESULT_CODES, example: 'SUCCESS' })
  result?: string;
  @ApiPropertyOptional({ example: '呼叫成功' })
  resultLabel?: string;
  @ApiPropertyOptional({ example: '用户听完语音' })
  resultDetail?: string;
  @ApiPropertyOptional({ example: ['意向客户'] })
  tags?: string[];
  @ApiPropertyOptional({ example: 'connected', description: 'Transfer to agents: connected, timeout, abandoned, lost' })
  transfer?: string;
  @ApiPropertyOptional({ type: TransferSecondsDto })
  transferSeconds?: TransferSecondsDto;
  @ApiPropertyOptional({ example: 'agent_1001' })
  agentId?: string;
  @ApiPropertyOptional({
    type: [HandoverDto],
    description:
      '转接 in the call after the first agent, in order (external numbers masked unless full numbers are shown)',
  })
  handovers?: HandoverDto[];
  @ApiPropertyOptional({
    example: 'HUMAN',
    description: 'Answering-machine detection: HUMAN, MACHINE, NOTSURE, HANGUP',
  })
  answeringMachine?: string;
  @ApiPropertyOptional({ example: 'HUMAN-1-1' })
  answeringMachineCause?: string;
  @ApiPropertyOptional({ enum: Object.values(HangupBy), example: 'USER', description: 'Who hung up' })
  hangupBy?: string;
  @ApiPropertyOptional({ example: '2025-07-01T09:00:00.000Z' })
  startedAt?: string;
  @ApiPropertyOptional({ example: '2025-07-01T09:00:06.000Z' })
  answeredAt?: string;
  @ApiPropertyOptional({ example: '2025-07-01T09:00:42.000Z' })
  endedAt?: string;
  @ApiPropertyOptional({ example: 6 })
  ringSeconds?: number;
  @ApiPropertyOptional({ example: 36 })
  talkSeconds?: number;
  @ApiPropertyOptional({
    example: '9b1f0c2d3e4a5b6c7d8e-0-1',
    description: 'The latest attempt (also its ARI channel id)',
  })
  attemptId?: string;
}

export class TaskDetailPageDto extends PageMetaDto {
  @ApiProperty({ type: [TaskDetailRowDto] })
  items!: TaskDetailRowDto[];
}

export class AvailableSeatsDto {
  @ApiProperty({ example: 8, description: 'AI seats of the tenant’s pool not held by running or paused tasks' })
  available!: number;
}

export class CallProfileDto {
  @ApiProperty({ example: 0.4, description: 'Answered share of attempts (0–1)' })
  answerRate!: number;
  @ApiProperty({ example: 45, description: 'Average talk seconds of an answered call' })
  talkSeconds!: number;
  @ApiProperty({ example: 12, description: 'Ring and set-up seconds of an answered call' })
  setupSeconds!: number;
  @ApiProperty({ example: 20, description: 'Seconds a failed attempt holds a seat' })
  failSeconds!: number;
  @ApiProperty({ example: 1, description: 'Share of failures that are redialled (0–1)' })
  retryShare!: number;
}

export class ForecastDto {
  @ApiProperty({
    type: 'string',
    nullable: true,
    example: '2025-07-02T06:30:00.000Z',
    description: 'When the task should finish; null when the calendar never opens',
  })
  finishesAt!: string | null;
  @ApiProperty({ example: 84.2 })
  expectedAttempts!: number;
  @ApiProperty({ example: 2650, description: 'Seat-seconds of calling still needed' })
  seatSeconds!: number;
  @ApiProperty({ example: 1325, description: 'Open calendar time needed with all seats busy' })
  openSeconds!: number;
  @ApiProperty({ example: 60 })
  remainingContacts!: number;
  @ApiProperty({ type: CallProfileDto })
  profile!: CallProfileDto;
  @ApiProperty({ description: 'The profile was measured on this task (not given, not the defaults)' })
  measured!: boolean;
}
