/**
 * Lines (CreateLine, ListLines, GetLine, UpdateLine, DisableLine, EnableLine, DeleteLine) and caller numbers
 * (AddCallerNumbers, ListCallerNumbers, GetCallerNumber, UpdateCallerNumber, DeleteCallerNumber). Managers change
 * them (admin implies every role); supervisors and auditors read. Everything is the caller's tenant's only.
 */
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '../auth/auth';
import { ListQueryDto } from '../tasks/task.dto';
import {
  AddCallerNumbersDto,
  AddCallerNumbersResultDto,
  CallerNumberDto,
  CallerNumberPageDto,
  CallerNumberQueryDto,
  CreateLineDto,
  LineDto,
  LinePageDto,
  UpdateCallerNumberDto,
  UpdateLineDto,
} from './line.dto';
import { LinesService } from './lines.service';

const LINE_ID = { name: 'id', example: 'line-3f9c0a7d1e2b' };
const NUMBER = { name: 'number', example: '02150001234', description: 'E.164 or a Chinese national form' };

@ApiTags('lines')
@ApiBearerAuth()
@Controller('lines')
export class LinesController {
  constructor(private readonly lines: LinesService) {}

  @Post()
  @Roles('manager')
  @ApiOperation({
    operationId: 'CreateLine',
    summary: 'Add a SIP trunk line (自有线路); it is pushed to Asterisk at once, no restart',
  })
  @ApiCreatedResponse({ type: LineDto })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateLineDto) {
    return this.lines.createLine(p.tenantId, dto);
  }

  @Get()
  @Roles('manager', 'supervisor', 'auditor')
  @ApiOperation({ operationId: 'ListLines', summary: 'The tenant’s lines, newest first, with the calls on each now' })
  @ApiOkResponse({ type: LinePageDto })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListQueryDto) {
    return this.lines.listLines(p.tenantId, q.page ?? 1, q.pageSize ?? 20);
  }

  @Get(':id')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam(LINE_ID)
  @ApiOperation({ operationId: 'GetLine', summary: 'One line, with the calls holding its slots now' })
  @ApiOkResponse({ type: LineDto })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.lines.getLine(p.tenantId, id);
  }

  @Patch(':id')
  @Roles('manager')
  @ApiParam(LINE_ID)
  @ApiOperation({
    operationId: 'UpdateLine',
    summary: 'Change a line’s name, address, concurrency or enabled state; Asterisk is updated at once',
  })
  @ApiOkResponse({ type: LineDto })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: UpdateLineDto) {
    return this.lines.updateLine(p.tenantId, id, dto);
  }

  @Post(':id/disable')
  @HttpCode(200)
  @Roles('manager')
  @ApiParam(LINE_ID)
  @ApiOperation({
    operationId: 'DisableLine',
    summary: 'Disable a line (禁用): no new calls, calls in progress finish; refused while a live task uses it',
  })
  @ApiOkResponse({ type: LineDto })
  disable(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.lines.updateLine(p.tenantId, id, { enabled: false });
  }

  @Post(':id/enable')
  @HttpCode(200)
  @Roles('manager')
  @ApiParam(LINE_ID)
  @ApiOperation({ operationId: 'EnableLine', summary: 'Enable a line again' })
  @ApiOkResponse({ type: LineDto })
  enable(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.lines.updateLine(p.tenantId, id, { enabled: true });
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('manager')
  @ApiParam(LINE_ID)
  @ApiOperation({
    operationId: 'DeleteLine',
    summary: 'Delete a line and its Asterisk endpoint; refused while it has numbers or calls',
  })
  @ApiNoContentResponse()
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.lines.deleteLine(p.tenantId, id);
  }
}

@ApiTags('lines')
@ApiBearerAuth()
@Controller('caller-numbers')
export class CallerNumbersController {
  constructor(private readonly lines: LinesService) {}

  @Post()
  @Roles('manager')
  @ApiOperation({
    operationId: 'AddCallerNumbers',
    summary: 'Add up to 300 caller numbers to a line (新增自有线路号码), with their number group and skill groups',
    description: 'All or nothing: each bad, repeated or already registered number is named as numbers.<i>.',
  })
  @ApiCreatedResponse({ type: AddCallerNumbersResultDto })
  add(@CurrentPrincipal() p: Principal, @Body() dto: AddCallerNumbersDto) {
    return this.lines.addNumbers(p.tenantId, dto);
  }

  @Get()
  @Roles('manager', 'supervisor', 'auditor')
  @ApiOperation({ operationId: 'ListCallerNumbers', summary: 'The tenant’s caller numbers, by line or number group' })
  @ApiOkResponse({ type: CallerNumberPageDto })
  list(@CurrentPrincipal() p: Principal, @Query() q: CallerNumberQueryDto) {
    return this.lines.listNumbers(
      p.tenantId,
      { ...(q.lineId ? { lineId: q.lineId } : {}), ...(q.numberGroup ? { numberGroup: q.numberGroup } : {}) },
      q.page ?? 1,
      q.pageSize ?? 20,
    );
  }

  @Get(':number')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam(NUMBER)
  @ApiOperation({ operationId: 'GetCallerNumber', summary: 'One caller number' })
  @ApiOkResponse({ type: CallerNumberDto })
  get(@CurrentPrincipal() p: Principal, @Param('number') number: string) {
    return this.lines.getNumber(p.tenantId, number);
  }

  @Patch(':number')
  @Roles('manager')
  @ApiParam(NUMBER)
  @ApiOperation({
    operationId: 'UpdateCallerNumber',
    summary: 'Move a number to another line or group, change its skill groups or status (有效/无效)',
  })
  @ApiOkResponse({ type: CallerNumberDto })
  update(@CurrentPrincipal() p: Principal, @Param('number') number: string, @Body() dto: UpdateCallerNumberDto) {
    return this.lines.updateNumber(p.tenantId, number, dto);
  }

  @Delete(':number')
  @HttpCode(204)
  @Roles('manager')
  @ApiParam(NUMBER)
  @ApiOperation({
    operationId: 'DeleteCallerNumber',
    summary: 'Delete (注销) a caller number; refused while a live task dials from it',
  })
  @ApiNoContentResponse()
  async remove(@CurrentPrincipal() p: Principal, @Param('number') number: string): Promise<void> {
    await this.lines.deleteNumber(p.tenantId, number);
  }
}
