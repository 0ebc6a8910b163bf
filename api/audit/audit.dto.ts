/**
 * What the audit routes answer, for the OpenAPI document only: GetCallTimeline (AuditService.timeline over
 * src/audit/timeline.ts), ReplayCallHistory (api/audit/replayer.ts ReplayReport) and the JSON form of the exports
 * (AuditExportService.callsJson / dialogsJson).
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CALL_RESULT_CODES, HangupBy } from '../../src/call-result';
import { DialogEndDto, DialogTurnDto, ScriptRefDto } from '../calls/dialog.dto';

export class AttemptOutcomeDto {
  @ApiProperty({ example: '9b1f0c2d3e4a5b6c7d8e-0-1' })
  attemptId!: string;
  @ApiProperty({ example: 1 })
  attempt!: number;
  @ApiProperty({ enum: CALL_RESULT_CODES, example: 'SUCCESS' })
  code!: string;
  @ApiProperty({ example: '呼叫成功' })
  label!: string;
  @ApiProperty({ enum: Object.values(HangupBy), example: 'USER' })
  hangupBy!: string;
  @ApiPropertyOptional({ example: 16, description: 'Q.850 hang-up cause' })
  cause?: number;
  @ApiPropertyOptional({ example: 'Normal Clearing' })
  causeText?: string;
  @ApiProperty({ example: '2025-07-01T09:00:00.000Z' })
  startedAt!: string;
  @ApiPropertyOptional({ example: '2025-07-01T09:00:06.000Z' })
  answeredAt?: string;
  @ApiProperty({ example: '2025-07-01T09:00:42.000Z' })
  endedAt!: string;
  @ApiProperty({ example: 6 })
  ringSeconds!: number;
  @ApiProperty({ example: 36 })
  talkSeconds!: number;
  @ApiProperty({ example: ['1'], description: 'Keys the callee pressed' })
  dtmf!: string[];
  @ApiPropertyOptional({ example: '用户听完语音' })
  detail?: string;
  @ApiPropertyOptional({ example: 'reconstructed after a lost activity result' })
  note?: string;
  @ApiPropertyOptional({ example: ['意向客户'] })
  tags?: string[];
  @ApiPropertyOptional({ type: DialogEndDto })
  dialogEnd?: DialogEndDto;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'A transfer to a human agent, when the script asked for one',
    example: {
      kind: 'connected',
      agentId: 'agent_1001',
      endedBy: 'USER',
      connectedAt: '2025-07-01T09:00:30.000Z',
      skillGroupId: 'sg_sales',
      startedAt: '2025-07-01T09:00:22.000Z',
      robotSeconds: 16,
      queueWaitSeconds: 8,
      humanSeconds: 12,
    },
  })
  transfer?: Record<string, unknown>;
  @ApiPropertyOptional({ example: 'agent_1001' })
  agentId?: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Answering-machine detection’s verdict',
    example: { status: 'HUMAN', cause: 'HUMAN-1-1' },
  })
  amd?: { status: string; cause: string };
}

export class TimelineAttemptDto {
  @ApiProperty({ example: 1 })
  attempt!: number;
  @ApiProperty({ example: '9b1f0c2d3e4a5b6c7d8e-0-1' })
  attemptId!: string;
  @ApiPropertyOptional({ enum: CALL_RESULT_CODES, example: 'SUCCESS' })
  code?: string;
  @ApiPropertyOptional({ example: '呼叫成功' })
  label?: string;
}

export class TimelineDialogDto {
  @ApiProperty({ type: ScriptRefDto })
  script!: ScriptRefDto;
  @ApiProperty({ example: ['意向客户'] })
  tags!: string[];
  @ApiProperty({ type: DialogEndDto })
  end!: DialogEndDto;
}

export class TimelineCheckDto {
  @ApiProperty({ example: 'result matches the call record' })
  check!: string;
  @ApiProperty()
  ok!: boolean;
  @ApiPropertyOptional({ example: 'history SUCCESS, record SUCCESS' })
  detail?: string;
}

export class TimelineEntryDto {
  @ApiProperty({ example: '2025-07-01T09:00:00.000Z' })
  at!: string;
  @ApiProperty({
    example: 'dial',
    description:
      'seat, dial, dialSkipped, dialFailed, ringing, answered, turn, transfer, queue, hangup, result, recorded, ' +
      'status, cancelled, skipped, activity, finished, …',
  })
  kind!: string;
  @ApiProperty({ example: 'dialled +86138****8000 (attempt 1)' })
  summary!: string;
  @ApiPropertyOptional({ example: 1 })
  attempt?: number;
  @ApiPropertyOptional({ example: '9b1f0c2d3e4a5b6c7d8e-0-1' })
  attemptId?: string;
  @ApiPropertyOptional({ example: '2025-07-01T09:00:06.000Z' })
  until?: string;
  @ApiPropertyOptional({ example: 6 })
  seconds?: number;
  @ApiPropertyOptional({ example: 'no free seat' })
  reason?: string;
  @ApiPropertyOptional({ example: 12, description: 'The history event (as the Temporal UI numbers it)' })
  eventId?: number;
  @ApiPropertyOptional({
    description: 'Waits for a seat: the campaign was paused during part of it',
    example: [{ from: '2025-07-01T09:10:00.000Z', to: '2025-07-01T09:20:00.000Z' }],
  })
  paused?: { from: string; to?: string }[];
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'A dialog turn: seq, input, node, heard, key, branch, intent, robot, next, tagsAdded, end',
    example: {
      seq: 1,
      input: 'speech',
      node: { scope: 'main', flowId: 'flow_main', nodeId: 'node_greeting' },
      heard: '可以，你说吧',
      branchType: 'AFFIRM',
      robot: [{ utteranceId: 'u-2', text: '好的，我们的新品…' }],
      next: { scope: 'main', flowId: 'flow_main', nodeId: 'node_offer' },
      tagsAdded: [],
    },
  })
  turn?: Record<string, unknown>;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Dial results, failures and anything else shown raw',
    example: { cause: 16 },
  })
  details?: Record<string, unknown>;
}

export class CallTimelineDto {
  @ApiProperty({ example: '9b1f0c2d3e4a5b6c7d8e' })
  taskId!: string;
  @ApiProperty({ example: '9b1f0c2d3e4a5b6c7d8e-0-1' })
  attemptId!: string;
  @ApiProperty({ example: 0 })
  contactIndex!: number;
  @ApiProperty({ example: 1 })
  attempt!: number;
  @ApiProperty({ example: 'task/9b1f0c2d3e4a5b6c7d8e/contact/0' })
  workflowId!: string;
  @ApiPropertyOptional({ example: '0197c1d2-3e4f-7a5b-8c6d-7e8f9a0b1c2d' })
  runId?: string;
  @ApiProperty({
    example: 'http://localhost:8233/namespaces/default/workflows/task%2F9b1f0c2d3e4a5b6c7d8e%2Fcontact%2F0',
  })
  temporalUiUrl!: string;
  @ApiPropertyOptional({ example: '+86138****8000', description: 'Masked for auditors' })
  phone?: string;
  @ApiProperty({
    enum: ['running', 'completed', 'failed', 'terminated', 'cancelled', 'timedOut', 'continuedAsNew'],
    example: 'completed',
  })
  workflowStatus!: string;
  @ApiProperty({ type: [TimelineAttemptDto] })
  attempts!: TimelineAttemptDto[];
  @ApiProperty({ type: AttemptOutcomeDto, nullable: true, description: 'This attempt’s outcome; null while it runs' })
  result!: AttemptOutcomeDto | null;
  @ApiProperty({ type: TimelineDialogDto, nullable: true, description: 'null when no script ran' })
  dialog!: TimelineDialogDto | null;
  @ApiProperty({ type: [TimelineCheckDto], description: 'The history cross-checked against the stored records' })
  checks!: TimelineCheckDto[];
  @ApiProperty({ type: [TimelineEntryDto] })
  entries!: TimelineEntryDto[];
}

export class ReplayFailureDto {
  @ApiProperty({ enum: ['nondeterminism', 'error'], example: 'nondeterminism' })
  kind!: string;
  @ApiProperty({ example: '[TMPRL1100] Nondeterminism error: …' })
  message!: string;
}

export class ReplayReportDto {
  @ApiProperty({ example: 'task/9b1f0c2d3e4a5b6c7d8e/contact/0' })
  workflowId!: string;
  @ApiPropertyOptional({ example: '0197c1d2-3e4f-7a5b-8c6d-7e8f9a0b1c2d' })
  runId?: string;
  @ApiProperty({ example: 42, description: 'Events in the replayed history' })
  events!: number;
  @ApiProperty({ description: 'True when the current code issues exactly the recorded commands' })
  sameDecisions!: boolean;
  @ApiPropertyOptional({ type: ReplayFailureDto })
  failure?: ReplayFailureDto;
  @ApiProperty({ example: 35, description: 'How long the replay took (ms), bundling excluded' })
  ms!: number;
  @ApiProperty({
    example: 'http://localhost:8233/namespaces/default/workflows/task%2F9b1f0c2d3e4a5b6c7d8e%2Fcontact%2F0',
  })
  temporalUiUrl!: string;
}

export class CallExportRowDto {
  @ApiProperty({ example: '9b1f0c2d3e4a5b6c7d8e-0-1' })
  attemptId!: string;
  @ApiProperty({ example: 0 })
  contactIndex!: number;
  @ApiProperty({ example: '+86138****8000', description: 'Masked for auditors' })
  phone!: string;
  @ApiPropertyOptional({ example: '张三' })
  name?: string;
  @ApiProperty({ example: 1 })
  attempt!: number;
  @ApiPropertyOptional({ type: AttemptOutcomeDto, description: 'Absent while the attempt is not final' })
  outcome?: AttemptOutcomeDto;
}

export class CallExportDto {
  @ApiProperty({ example: '9b1f0c2d3e4a5b6c7d8e' })
  taskId!: string;
  @ApiProperty({ type: [CallExportRowDto] })
  items!: CallExportRowDto[];
}

export class TranscriptDto {
  @ApiProperty({ example: '9b1f0c2d3e4a5b6c7d8e-0-1' })
  attemptId!: string;
  @ApiProperty({ example: 0 })
  contactIndex!: number;
  @ApiProperty({ example: '+86138****8000', description: 'Masked for auditors' })
  phone!: string;
  @ApiProperty({ type: ScriptRefDto })
  script!: ScriptRefDto;
  @ApiProperty({ example: ['意向客户'] })
  tags!: string[];
  @ApiProperty({ type: DialogEndDto })
  end!: DialogEndDto;
  @ApiProperty({ type: [DialogTurnDto] })
  turns!: DialogTurnDto[];
}

export class TranscriptExportDto {
  @ApiProperty({ example: '9b1f0c2d3e4a5b6c7d8e' })
  taskId!: string;
  @ApiProperty({ type: [TranscriptDto] })
  items!: TranscriptDto[];
}
