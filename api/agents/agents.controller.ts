/**
 * Skill groups (CreateSkillGroup … DeleteSkillGroup), departments (CreateDepartment … DeleteDepartment), agents
 * (CreateAgent, ImportAgents, ListAgents, GetAgent, UpdateAgent, DeleteAgent, FreezeAgent, UnfreezeAgent), agent
 * states (GetAgentState, ChangeAgentState, ListAgentStateHistory) and hotline settings (GetAgentSettings,
 * UpdateAgentSettings, GetAgentEffectiveSettings).
 *
 * Roles: managers (and admins) manage groups, departments, agents and settings; supervisors change agents' states,
 * and an agent (an `agent@<agentId>` key) changes its own through ChangeAgentState too (403 for any other agent's id;
 * its workbench is /agents/me, api/agents/agent-view.controller.ts); managers, supervisors and auditors read.
 * Everything is the caller's tenant's only (others' answer 404).
 */
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '../auth/auth';
import type { UploadedList } from '../lists/list-reader';
import { ListUploadInterceptor } from '../lists/upload.interceptor';
import { ListQueryDto } from '../tasks/task.dto';
import {
  AgentDto,
  AgentPageDto,
  AgentQueryDto,
  AgentStateDto,
  ChangeAgentStateDto,
  CreateAgentDto,
  CreateDepartmentDto,
  CreateSkillGroupDto,
  DepartmentDto,
  DepartmentPageDto,
  EffectiveSettingsDto,
  FreezeAgentDto,
  ImportAgentsResultDto,
  SkillGroupDto,
  SkillGroupPageDto,
  SkillGroupQueryDto,
  StateHistoryDto,
  StateHistoryQueryDto,
  HotlineSettingsDto,
  UnfreezeAgentDto,
  UpdateAgentDto,
  UpdateDepartmentDto,
  UpdateSkillGroupDto,
  UpdateHotlineSettingsDto,
} from './agent.dto';
import { AgentImportService, MAX_IMPORT_AGENTS } from './agent-import.service';
import { AgentsService } from './agents.service';
import { SkillGroupsService } from './skill-groups.service';

const GROUP_ID = { name: 'id', example: 'sg-3f9c0a7d1e2b' };
const DEPT_ID = { name: 'id', example: 'dept-3f9c0a7d1e2b' };
const AGENT_ID = { name: 'id', example: '3f9c0a7d1e2b' };
const READERS = ['manager', 'supervisor', 'auditor'] as const;

@ApiTags('agents')
@ApiBearerAuth()
@Controller('skill-groups')
export class SkillGroupsController {
  constructor(private readonly groups: SkillGroupsService) {}

  @Post()
  @Roles('manager')
  @ApiOperation({ operationId: 'CreateSkillGroup', summary: 'Add a skill group (技能组)' })
  @ApiCreatedResponse({ type: SkillGroupDto })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateSkillGroupDto) {
    return this.groups.createSkillGroup(p.tenantId, dto);
  }

  @Get()
  @Roles(...READERS)
  @ApiOperation({ operationId: 'ListSkillGroups', summary: 'The tenant’s skill groups by name, or one department’s' })
  @ApiOkResponse({ type: SkillGroupPageDto })
  list(@CurrentPrincipal() p: Principal, @Query() q: SkillGroupQueryDto) {
    return this.groups.listSkillGroups(
      p.tenantId,
      q.departmentId ? { departmentId: q.departmentId } : {},
      q.page ?? 1,
      q.pageSize ?? 20,
    );
  }

  @Get(':id')
  @Roles(...READERS)
  @ApiParam(GROUP_ID)
  @ApiOperation({ operationId: 'GetSkillGroup', summary: 'One skill group' })
  @ApiOkResponse({ type: SkillGroupDto })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.groups.getSkillGroup(p.tenantId, id);
  }

  @Patch(':id')
  @Roles('manager')
  @ApiParam(GROUP_ID)
  @ApiOperation({ operationId: 'UpdateSkillGroup', summary: 'Change a skill group, or move it to another department' })
  @ApiOkResponse({ type: SkillGroupDto })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: UpdateSkillGroupDto) {
    return this.groups.updateSkillGroup(p.tenantId, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('manager')
  @ApiParam(GROUP_ID)
  @ApiOperation({
    operationId: 'DeleteSkillGroup',
    summary: 'Delete a skill group; refused (409) while agents belong to it, naming them',
  })
  @ApiNoContentResponse()
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.groups.deleteSkillGroup(p.tenantId, id);
  }
}

@ApiTags('agents')
@ApiBearerAuth()
@Controller('departments')
export class DepartmentsController {
  constructor(private readonly groups: SkillGroupsService) {}

  @Post()
  @Roles('manager')
  @ApiOperation({ operationId: 'CreateDepartment', summary: 'Add a department (部门 / 技能组分组)' })
  @ApiCreatedResponse({ type: DepartmentDto })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateDepartmentDto) {
    return this.groups.createDepartment(p.tenantId, dto);
  }

  @Get()
  @Roles(...READERS)
  @ApiOperation({ operationId: 'ListDepartments', summary: 'The tenant’s departments by name' })
  @ApiOkResponse({ type: DepartmentPageDto })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListQueryDto) {
    return this.groups.listDepartments(p.tenantId, q.page ?? 1, q.pageSize ?? 20);
  }

  @Get(':id')
  @Roles(...READERS)
  @ApiParam(DEPT_ID)
  @ApiOperation({ operationId: 'GetDepartment', summary: 'One department' })
  @ApiOkResponse({ type: DepartmentDto })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.groups.getDepartment(p.tenantId, id);
  }

  @Patch(':id')
  @Roles('manager')
  @ApiParam(DEPT_ID)
  @ApiOperation({ operationId: 'UpdateDepartment', summary: 'Rename a department or change its description' })
  @ApiOkResponse({ type: DepartmentDto })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: UpdateDepartmentDto) {
    return this.groups.updateDepartment(p.tenantId, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('manager')
  @ApiParam(DEPT_ID)
  @ApiOperation({
    operationId: 'DeleteDepartment',
    summary: 'Delete a department; refused (409) while skill groups belong to it, naming them',
  })
  @ApiNoContentResponse()
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.groups.deleteDepartment(p.tenantId, id);
  }
}

@ApiTags('agents')
@ApiBearerAuth()
@Controller('agents')
export class AgentsController {
  constructor(
    private readonly agents: AgentsService,
    private readonly importer: AgentImportService,
  ) {}

  @Post()
  @Roles('manager')
  @ApiOperation({
    operationId: 'CreateAgent',
    summary: 'Add an agent (坐席); its phone’s PJSIP endpoint agent-<id> is created in Asterisk at once',
  })
  @ApiCreatedResponse({ type: AgentDto })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateAgentDto) {
    return this.agents.create(p.tenantId, dto);
  }

  @Post('import')
  @Roles('manager')
  @ApiOperation({
    operationId: 'ImportAgents',
    summary: '批量导入: agents from an xlsx workbook, all or nothing',
    description:
      `multipart/form-data, field \`file\`: the first sheet, header row 登录名, 真实姓名, 对外展示名, 话机地址 ` +
      `(host[:port]), optional 技能组 (names or ids, separated by commas) and 角色 (普通坐席 / 企业管理员); ` +
      `at most ${MAX_IMPORT_AGENTS} agents. Each problem names its row (the header is row 1) and column; ` +
      `nothing is written unless every row is good.`,
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } },
  })
  @ApiCreatedResponse({ type: ImportAgentsResultDto })
  @UseInterceptors(ListUploadInterceptor)
  import(@CurrentPrincipal() p: Principal, @UploadedFile() file?: UploadedList) {
    return this.importer.import(p.tenantId, file);
  }

  @Get()
  @Roles(...READERS)
  @ApiOperation({ operationId: 'ListAgents', summary: 'The tenant’s agents with their current states' })
  @ApiOkResponse({ type: AgentPageDto })
  list(@CurrentPrincipal() p: Principal, @Query() q: AgentQueryDto) {
    return this.agents.list(
      p.tenantId,
      q.skillGroupId ? { skillGroupId: q.skillGroupId } : {},
      q.page ?? 1,
      q.pageSize ?? 20,
    );
  }

  @Get(':id')
  @Roles(...READERS)
  @ApiParam(AGENT_ID)
  @ApiOperation({ operationId: 'GetAgent', summary: 'One agent with its current state' })
  @ApiOkResponse({ type: AgentDto })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.agents.get(p.tenantId, id);
  }

  @Patch(':id')
  @Roles('manager')
  @ApiParam(AGENT_ID)
  @ApiOperation({
    operationId: 'UpdateAgent',
    summary: 'Change an agent (names, skill groups, role, phone address — Asterisk updated at once — own settings)',
  })
  @ApiOkResponse({ type: AgentDto })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: UpdateAgentDto) {
    return this.agents.update(p.tenantId, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('manager')
  @ApiParam(AGENT_ID)
  @ApiOperation({
    operationId: 'DeleteAgent',
    summary: 'Delete an agent and its phone’s endpoint; refused while a call holds it',
  })
  @ApiNoContentResponse()
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.agents.remove(p.tenantId, id);
  }

  @Post(':id/freeze')
  @HttpCode(200)
  @Roles('manager')
  @ApiParam(AGENT_ID)
  @ApiOperation({
    operationId: 'FreezeAgent',
    summary: '冻结: temporary (until) or permanent, with a reason; the agent is signed out and cannot go online',
  })
  @ApiOkResponse({ type: AgentDto })
  freeze(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: FreezeAgentDto) {
    return this.agents.freeze(p.tenantId, id, dto, p);
  }

  @Post(':id/unfreeze')
  @HttpCode(200)
  @Roles('manager')
  @ApiParam(AGENT_ID)
  @ApiOperation({ operationId: 'UnfreezeAgent', summary: '解冻, with an optional reason' })
  @ApiOkResponse({ type: AgentDto })
  unfreeze(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: UnfreezeAgentDto) {
    return this.agents.unfreeze(p.tenantId, id, dto);
  }

  @Get(':id/state')
  @Roles(...READERS)
  @ApiParam(AGENT_ID)
  @ApiOperation({ operationId: 'GetAgentState', summary: 'The agent’s current state (未上班/在线/小休/话后处理/下班)' })
  @ApiOkResponse({ type: AgentStateDto })
  state(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.agents.state(p.tenantId, id);
  }

  @Put(':id/state')
  @Roles('supervisor', 'agent')
  @ApiParam(AGENT_ID)
  @ApiOperation({
    operationId: 'ChangeAgentState',
    summary: 'Change an agent’s state: 上班 / 继续工作 (ONLINE), 小休 with a reason, 下班 (SIGNED_OUT)',
    description:
      'Supervisors change any agent of their tenant; an agent (agent@<agentId> key) only its own (403 naming `id` ' +
      'for any other agent, whether it exists or not). Refused (409, naming the rule) for a frozen agent or one ' +
      'without a skill group going online, a transition the state table does not allow, or an agent a call holds. ' +
      'The same state again is a no-op.',
  })
  @ApiOkResponse({ type: AgentStateDto })
  changeState(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: ChangeAgentStateDto) {
    return this.agents.changeState(p.tenantId, id, dto, p);
  }

  @Get(':id/state-history')
  @Roles(...READERS)
  @ApiParam(AGENT_ID)
  @ApiOperation({
    operationId: 'ListAgentStateHistory',
    summary: 'The agent’s state changes in a period (default the last 24 hours, at most 31 days), oldest first',
  })
  @ApiOkResponse({ type: StateHistoryDto })
  history(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() q: StateHistoryQueryDto) {
    return this.agents.history(p.tenantId, id, q);
  }

  @Get(':id/settings')
  @Roles(...READERS)
  @ApiParam(AGENT_ID)
  @ApiOperation({
    operationId: 'GetAgentEffectiveSettings',
    summary: 'The hotline settings that apply to the agent (its own while the tenant allows them, else the tenant’s)',
  })
  @ApiOkResponse({ type: EffectiveSettingsDto })
  settings(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.agents.effectiveSettings(p.tenantId, id);
  }
}

@ApiTags('agents')
@ApiBearerAuth()
@Controller('agent-settings')
export class AgentSettingsController {
  constructor(private readonly agents: AgentsService) {}

  @Get()
  @Roles(...READERS)
  @ApiOperation({
    operationId: 'GetAgentSettings',
    summary: 'The tenant’s hotline settings (热线设置): auto-answer, auto-end of after-call work, per-agent override',
  })
  @ApiOkResponse({ type: HotlineSettingsDto })
  get(@CurrentPrincipal() p: Principal) {
    return this.agents.settings(p.tenantId);
  }

  @Patch()
  @Roles('manager')
  @ApiOperation({ operationId: 'UpdateAgentSettings', summary: 'Change the tenant’s hotline settings' })
  @ApiOkResponse({ type: HotlineSettingsDto })
  update(@CurrentPrincipal() p: Principal, @Body() dto: UpdateHotlineSettingsDto) {
    return this.agents.updateSettings(p.tenantId, dto);
  }
}
