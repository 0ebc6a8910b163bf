/**
 * Audit routes (issue #9). Auditors read everything here and change nothing: every route is a read, and the one
 * POST (ReplayCallHistory) only re-runs a stored history through the workflow code in memory — it writes nothing,
 * which is why auditors may call it (a POST because it is a computation, not a cacheable read).
 */
import { Controller, Get, HttpCode, Param, Post, Query, StreamableFile } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiPropertyOptional,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { CurrentPrincipal, Roles, seesFullNumbers, type Principal } from '../auth/auth';
import { TasksService } from '../tasks/tasks.service';
import { AuditExportService } from './audit-export.service';
import { CallExportDto, CallTimelineDto, ReplayReportDto, TranscriptExportDto } from './audit.dto';
import { AuditService } from './audit.service';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const FILE = { schema: { type: 'string', format: 'binary' } } as const;

/** An export's answer per format: the file (xlsx, csv) or, for `format=json`, the JSON body. */
const exportContent = (json: new () => unknown) => ({
  description: 'xlsx (default), csv, or with `format=json` the rows as JSON',
  content: {
    [XLSX_TYPE]: FILE,
    'text/csv': FILE,
    'application/json': { schema: { $ref: getSchemaPath(json) } },
  },
});

export class AuditExportQueryDto {
  @ApiPropertyOptional({ enum: ['xlsx', 'csv', 'json'], default: 'xlsx' })
  @IsOptional()
  @IsIn(['xlsx', 'csv', 'json'])
  format?: 'xlsx' | 'csv' | 'json';
}

const attachment = (name: string) => `attachment; filename="${name.replace(/[^\x20-\x7e]/g, '_').replace(/"/g, '')}"`;

@ApiTags('audit')
@ApiExtraModels(CallExportDto, TranscriptExportDto)
@ApiBearerAuth()
@Controller('tasks/:taskId')
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly exports: AuditExportService,
    private readonly tasks: TasksService,
  ) {}

  @Get('calls/:attemptId/timeline')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiParam({ name: 'attemptId', description: 'The call (attempt) id `{taskId}-{index}-{attempt}`' })
  @ApiOperation({
    operationId: 'GetCallTimeline',
    summary: 'One call’s whole story, from its workflow history and its records',
    description:
      'Every step of the contact’s workflow in time order — when it became due, every wait with its reason and ' +
      'duration, the seat wait (and whether the task was paused meanwhile), each dial, ringing, answer, every dialog ' +
      'turn (prompt, what was heard, branch or KB entry, intent, node), transfer, hang-up and result — plus checks ' +
      'that the call record and the dialog record agree with the history, and a link to the workflow in the ' +
      'Temporal Web UI. Numbers are masked for principals who may not see them.',
  })
  @ApiOkResponse({ type: CallTimelineDto, description: 'The timeline' })
  timeline(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string, @Param('attemptId') attemptId: string) {
    return this.audit.timeline(p, taskId, attemptId);
  }

  @Post('calls/:attemptId/replay')
  @HttpCode(200)
  @Roles('supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiParam({ name: 'attemptId' })
  @ApiOperation({
    operationId: 'ReplayCallHistory',
    summary: 'Replay the call’s workflow history against the current workflow code',
    description:
      'Runs the SDK’s replayer over the contact workflow’s history: `sameDecisions` is true when the current code ' +
      'makes exactly the recorded decisions; otherwise `failure` carries the non-determinism error. Writes nothing.',
  })
  @ApiOkResponse({ type: ReplayReportDto })
  replay(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string, @Param('attemptId') attemptId: string) {
    return this.audit.replay(p, taskId, attemptId);
  }

  @Get('calls/:attemptId/history')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiParam({ name: 'attemptId' })
  @ApiProduces('application/json')
  @ApiOkResponse({
    description: 'The history as a JSON file (temporal.api.history.v1.History in proto JSON)',
    content: { 'application/json': FILE },
  })
  @ApiOperation({
    operationId: 'ExportCallHistory',
    summary: 'The call’s raw workflow history (proto JSON, as `temporal workflow show --output json`)',
    description:
      'Replayable as is (CLI: `npm run replay -- --file <it>`); numbers masked inside payloads for auditors.',
  })
  async history(
    @CurrentPrincipal() p: Principal,
    @Param('taskId') taskId: string,
    @Param('attemptId') attemptId: string,
  ) {
    const json = await this.audit.rawHistory(p, taskId, attemptId);
    return new StreamableFile(Buffer.from(json, 'utf8'), {
      type: 'application/json',
      disposition: attachment(`history-${attemptId}.json`),
    });
  }

  @Get('audit/calls')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiProduces(XLSX_TYPE, 'text/csv', 'application/json')
  @ApiOkResponse(exportContent(CallExportDto))
  @ApiOperation({
    operationId: 'ExportCallRecords',
    summary: 'Every call (attempt) of the task with its result and times: xlsx, csv or json',
  })
  async calls(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string, @Query() q: AuditExportQueryDto) {
    const task = await this.tasks.taskOr404(p.tenantId, taskId);
    const full = seesFullNumbers(p);
    if (q.format === 'json') return this.exports.callsJson(task, full);
    if (q.format === 'csv')
      return new StreamableFile(this.exports.callsCsv(task, full), {
        type: 'text/csv; charset=utf-8',
        disposition: attachment(`calls-${taskId}.csv`),
      });
    return new StreamableFile(await this.exports.callsXlsx(task, full), {
      type: XLSX_TYPE,
      disposition: attachment(`calls-${taskId}.xlsx`),
    });
  }

  @Get('audit/dialogs')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiProduces(XLSX_TYPE, 'text/csv', 'application/json')
  @ApiOkResponse(exportContent(TranscriptExportDto))
  @ApiOperation({
    operationId: 'ExportDialogTranscripts',
    summary: 'Dialog transcripts of the task’s answered calls, turn by turn: xlsx, csv or json',
  })
  async dialogs(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string, @Query() q: AuditExportQueryDto) {
    const task = await this.tasks.taskOr404(p.tenantId, taskId);
    const full = seesFullNumbers(p);
    if (q.format === 'json') return this.exports.dialogsJson(task, full);
    if (q.format === 'csv')
      return new StreamableFile(this.exports.dialogsCsv(task, full), {
        type: 'text/csv; charset=utf-8',
        disposition: attachment(`dialogs-${taskId}.csv`),
      });
    return new StreamableFile(await this.exports.dialogsXlsx(task, full), {
      type: XLSX_TYPE,
      disposition: attachment(`dialogs-${taskId}.xlsx`),
    });
  }
}
