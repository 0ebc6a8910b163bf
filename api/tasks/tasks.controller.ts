/** The seed's task API (seed-spec §4) as REST routes; operationIds carry the seed's names. */
import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  StreamableFile,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { IsString } from 'class-validator';
import { ValidationFailed } from '../../src/errors';
import { CurrentPrincipal, Roles, seesFullNumbers, type Principal } from '../auth/auth';
import { validateInto } from '../common/validation';
import { AttachContactsDto, ExportQueryDto, ImportReportDto } from '../lists/list.dto';
import { TaskStatisticsViewDto } from './task-statistics.dto';
import type { UploadedList } from '../lists/list-reader';
import { ListUploadInterceptor } from '../lists/upload.interceptor';
import { CreateTaskDto, DetailQueryDto, ListQueryDto } from './task.dto';
import { CreatedTaskDto, TaskDetailPageDto, TaskPageDto, TaskViewDto } from './task-view.dto';
import { TasksService } from './tasks.service';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** A file download: Swagger UI offers the bytes as a "Download file" link. */
const XLSX_FILE = { schema: { type: 'string', format: 'binary' }, description: 'An xlsx file' } as const;

/** The multipart form's text part; the file part arrives through the interceptor. */
class CreateTaskForm {
  @IsString()
  definition!: string;
}

/** Content-Disposition with an ASCII fallback name (headers must be Latin-1) and the real one in UTF-8. */
const attachment = (name: string) =>
  `attachment; filename="${name.replace(/[^\x20-\x7e]/g, '_').replace(/"/g, '')}"; filename*=UTF-8''${encodeURIComponent(name)}`;

@ApiTags('tasks')
@ApiBearerAuth()
@ApiExtraModels(AttachContactsDto)
@Controller('tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Post()
  @Roles('manager')
  @ApiOperation({
    operationId: 'CreateTask',
    summary: 'Create a task with its call list',
    description:
      'multipart/form-data: `definition` is the task definition as JSON (see CreateTaskDto), `file` the call list ' +
      '(.xlsx — see GET /tasks/template.xlsx — or CSV in UTF-8; header row: 用户号码/phone, optional 用户名称/name, ' +
      '时区/timezone, one column per ${variable} of the prompt). Numbers are normalised to E.164, duplicates ' +
      'dropped and counted, numbers on the do-not-call list flagged. Either everything is stored or nothing is; ' +
      'problems name the field, or the row and column, and a rejected list’s report is downloadable as xlsx.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['definition', 'file'],
      properties: {
        definition: {
          type: 'string',
          description: 'CreateTaskDto as JSON',
          example: JSON.stringify({
            name: '回访任务_1',
            workingDays: [1, 2, 3, 4, 5],
            workingWindows: [
              { start: '09:00', end: '12:00' },
              { start: '14:00', end: '18:00' },
            ],
            aiSeats: 2,
            retry: { reasons: ['BUSY', 'NO_ANSWER'], maxRetries: 1, intervalMinutes: 30 },
          }),
        },
        file: { type: 'string', format: 'binary' },
      },
    },
  })
  @ApiCreatedResponse({ type: CreatedTaskDto, description: 'The task as GetTask shows it, and its list’s import' })
  @UseInterceptors(ListUploadInterceptor)
  async create(@CurrentPrincipal() p: Principal, @Body() form: CreateTaskForm, @UploadedFile() file?: UploadedList) {
    let plain: unknown;
    try {
      plain = JSON.parse(form?.definition ?? '');
    } catch {
      throw new ValidationFailed('definition must be a JSON object', [
        { field: 'definition', reason: 'not valid JSON' },
      ]);
    }
    if (typeof plain !== 'object' || plain === null || Array.isArray(plain))
      throw new ValidationFailed('definition must be a JSON object', [
        { field: 'definition', reason: 'not a JSON object' },
      ]);
    const dto = validateInto(CreateTaskDto, plain, 'definition');
    return this.tasks.create(p.tenantId, dto, file);
  }

  @Get()
  @Roles('manager', 'supervisor', 'auditor')
  @ApiOperation({ operationId: 'ListTask', summary: 'List the tenant’s tasks, newest first' })
  @ApiOkResponse({ type: TaskPageDto })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListQueryDto) {
    return this.tasks.list(p.tenantId, q.page ?? 1, q.pageSize ?? 20);
  }

  // Declared before `:taskId` so that Express does not take "template.xlsx" for a task id.
  @Get('template.xlsx')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiProduces(XLSX_TYPE)
  @ApiOkResponse(XLSX_FILE)
  @ApiOperation({
    operationId: 'DownloadListTemplate',
    summary: 'The call-list template (xlsx): 用户号码, 用户名称, 时区 and a notes sheet',
  })
  async template(@CurrentPrincipal() p: Principal) {
    return new StreamableFile(await this.tasks.template(p.tenantId), {
      type: XLSX_TYPE,
      disposition: attachment('外呼清单模板.xlsx'),
    });
  }

  @Get('imports/:importId/errors.xlsx')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'importId', example: 'imp_3f9c0a7d1e2b4c5d6e' })
  @ApiProduces(XLSX_TYPE)
  @ApiOkResponse(XLSX_FILE)
  @ApiOperation({
    operationId: 'DownloadImportErrors',
    summary: 'A rejected import’s problems as xlsx (行, 列, 值, 原因); kept for 7 days',
  })
  async importErrors(@CurrentPrincipal() p: Principal, @Param('importId') importId: string) {
    return new StreamableFile(await this.tasks.importErrors(p.tenantId, importId), {
      type: XLSX_TYPE,
      disposition: attachment(`import-errors-${importId}.xlsx`),
    });
  }

  @Get(':taskId')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiOperation({ operationId: 'GetTask', summary: 'One task: definition, status, statistics, live progress' })
  @ApiOkResponse({ type: TaskViewDto })
  get(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string) {
    return this.tasks.get(p.tenantId, taskId);
  }

  @Get(':taskId/statistics')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiOkResponse({ type: TaskStatisticsViewDto })
  @ApiOperation({
    operationId: 'GetTaskStatistics',
    summary:
      'Dialled / total, answered, connect rate, average talk time, results, answer-status donut, redials, transfers to agents and transfer rate',
  })
  statistics(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string) {
    return this.tasks.statistics(p.tenantId, taskId);
  }

  @Get(':taskId/template.xlsx')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiProduces(XLSX_TYPE)
  @ApiOkResponse(XLSX_FILE)
  @ApiOperation({
    operationId: 'DownloadTaskListTemplate',
    summary: 'The call-list template of a task: 用户号码, 用户名称, 时区 and one column per ${variable} of its prompt',
  })
  async taskTemplate(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string) {
    return new StreamableFile(await this.tasks.template(p.tenantId, taskId), {
      type: XLSX_TYPE,
      disposition: attachment(`外呼清单模板-${taskId}.xlsx`),
    });
  }

  @Post(':taskId/contacts')
  @HttpCode(200)
  @Roles('manager')
  @UseInterceptors(ListUploadInterceptor)
  @ApiParam({ name: 'taskId' })
  @ApiHeader({
    // The same name as @Headers('idempotency-key') below, so Swagger shows one optional header, not two.
    name: 'idempotency-key',
    required: false,
    description: 'A repeat with the same key returns the first result and writes nothing (kept 7 days)',
  })
  @ApiOperation({
    operationId: 'AttachTask',
    summary: 'Append contacts to a task (追加任务明细), also a running one',
    description:
      'A CSV/xlsx upload (multipart, field `file`) or JSON `{contacts: [{phone, name?, timezone?, variables?}]}`. ' +
      'Same rules as CreateTask’s list; numbers already in the task are dropped and counted. All or nothing.',
  })
  @ApiConsumes('multipart/form-data', 'application/json')
  @ApiBody({
    schema: {
      oneOf: [
        { type: 'object', properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] },
        { $ref: getSchemaPath(AttachContactsDto) },
      ],
    },
  })
  @ApiOkResponse({ type: ImportReportDto })
  async attach(
    @CurrentPrincipal() p: Principal,
    @Param('taskId') taskId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
    @Headers('idempotency-key') key?: string,
    @UploadedFile() file?: UploadedList,
  ) {
    const source = file ? { file } : { contacts: validateInto(AttachContactsDto, body ?? {}, 'body').contacts };
    const { report, replayed } = await this.tasks.attach(p.tenantId, taskId, source, key);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    return report;
  }

  @Get(':taskId/export')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiProduces(XLSX_TYPE, 'text/csv')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' }, description: 'An xlsx file, or CSV (UTF-8)' })
  @ApiOperation({
    operationId: 'ExportTaskDetail',
    summary: '申请导出号码详情: every number’s latest result (xlsx, or CSV streamed); masked for auditors',
  })
  async export(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string, @Query() q: ExportQueryDto) {
    const format = q.format ?? 'xlsx';
    const out = await this.tasks.exportDetails(p.tenantId, taskId, format, seesFullNumbers(p));
    const name = `task-${taskId}-details.${format}`;
    return 'stream' in out
      ? new StreamableFile(out.stream, { type: 'text/csv; charset=utf-8', disposition: attachment(name) })
      : new StreamableFile(out.buffer, { type: XLSX_TYPE, disposition: attachment(name) });
  }

  @Get(':taskId/details')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiOperation({
    operationId: 'ListTaskDetail',
    summary: 'Per-number details: latest result, times and durations (filters: result, phone)',
  })
  @ApiOkResponse({ type: TaskDetailPageDto })
  details(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string, @Query() q: DetailQueryDto) {
    return this.tasks.details(p.tenantId, taskId, q, seesFullNumbers(p));
  }
}
