/** The seed's task API (seed-spec §4) as REST routes; operationIds carry the seed's names. */
import { Body, Controller, Get, Param, Post, Query, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { ValidationFailed } from '../../src/errors';
import { CurrentPrincipal, Roles, seesFullNumbers, type Principal } from '../auth/auth';
import { validateInto } from '../common/validation';
import { CreateTaskDto, DetailQueryDto, ListQueryDto } from './task.dto';
import { TasksService } from './tasks.service';

/** Upload cap for one call list. */
export const MAX_LIST_BYTES = 64 * 1024 * 1024;

/** The multipart form's text part; the file part arrives through the interceptor. */
class CreateTaskForm {
  @IsString()
  definition!: string;
}

@ApiTags('tasks')
@ApiBearerAuth()
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
      '(CSV, UTF-8, header row: phone or 用户号码, optional name/用户名称, timezone/时区, one column per variable). ' +
      'Either everything is stored or nothing is; problems name the field, or the row and column.',
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
  @UseInterceptors(FileInterceptor('file', { limits: { fileSize: MAX_LIST_BYTES, files: 1 } }))
  async create(
    @CurrentPrincipal() p: Principal,
    @Body() form: CreateTaskForm,
    @UploadedFile() file?: { buffer: Buffer; originalname: string; size: number },
  ) {
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
  list(@CurrentPrincipal() p: Principal, @Query() q: ListQueryDto) {
    return this.tasks.list(p.tenantId, q.page ?? 1, q.pageSize ?? 20);
  }

  @Get(':taskId')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiOperation({ operationId: 'GetTask', summary: 'One task: definition, status, statistics, live progress' })
  get(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string) {
    return this.tasks.get(p.tenantId, taskId);
  }

  @Get(':taskId/details')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiOperation({
    operationId: 'ListTaskDetail',
    summary: 'Per-number details: latest result, times and durations (filters: result, phone)',
  })
  details(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string, @Query() q: DetailQueryDto) {
    return this.tasks.details(p.tenantId, taskId, q, seesFullNumbers(p));
  }
}
