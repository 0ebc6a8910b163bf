/**
 * DTOs of the skill-group, department, agent, agent-state and hotline-settings routes (seed §5.2, §5.4), with
 * explicit Swagger decorators as in api/tasks/task.dto.ts.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  AFTER_CALL_WORK_MAX_SECONDS,
  AGENT_STATES,
  AUTO_ANSWER_MAX_SECONDS,
  BREAK_REASONS,
} from '../../activities/agents/agent-states';
import { AGENT_ROLES, SKILL_GROUP_CHANNELS } from '../../activities/mongo/agent-repository';
import { SIP_ADDRESS } from '../lines/line.dto';
import { ListQueryDto } from '../tasks/task.dto';
import { PageMetaDto } from '../common/page.dto';

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const ID = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_SKILL_GROUPS_PER_AGENT = 50;
/** The states an agent (or a supervisor for it) may ask for; AFTER_CALL_WORK is entered by the queue only. */
export const API_TARGET_STATES = ['ONLINE', 'SHORT_BREAK', 'SIGNED_OUT'] as const;

// ---- departments ----

export class CreateDepartmentDto {
  @ApiProperty({ example: '华东客服部', description: '技能组分组名称, 1–50 characters, unique within the tenant' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  name!: string;

  @ApiPropertyOptional({ example: '华东区域的热线技能组', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;
}

export class UpdateDepartmentDto {
  @ApiPropertyOptional({ example: '华东客服部' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  name?: string;

  @ApiPropertyOptional({ example: '华东区客服中心', nullable: true, description: 'null removes the description' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(200)
  description?: string | null;
}

export class DepartmentDto {
  @ApiProperty({ example: 'dept-3f9c0a7d1e2b' })
  id!: string;
  @ApiProperty({ example: '华东客服部' })
  name!: string;
  @ApiPropertyOptional({ example: '华东区客服中心' })
  description?: string;
  @ApiProperty({ example: '2026-03-02T08:00:00.000Z' })
  createdAt!: Date;
  @ApiProperty({ example: '2026-03-05T09:30:00.000Z' })
  updatedAt!: Date;
}

export class DepartmentPageDto extends PageMetaDto {
  @ApiProperty({ type: [DepartmentDto] })
  items!: DepartmentDto[];
}

// ---- skill groups ----

export class CreateSkillGroupDto {
  @ApiProperty({ example: 'sales_east', description: '技能组名称, 1–50 characters, unique within the tenant' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  name!: string;

  @ApiProperty({ example: '华东销售', description: '对外展示名' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  displayName!: string;

  @ApiProperty({ enum: SKILL_GROUP_CHANNELS, example: 'HOTLINE', description: '应用渠道: 在线 / 热线 / 工单' })
  @IsIn(SKILL_GROUP_CHANNELS)
  channel!: (typeof SKILL_GROUP_CHANNELS)[number];

  @ApiProperty({ example: true, description: '转交是否可见: shown to agents as a transfer target' })
  @IsBoolean()
  transferVisible!: boolean;

  @ApiPropertyOptional({ example: '售后咨询与投诉', maxLength: 200, description: '描述 (optional: DECISION N5)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;

  @ApiPropertyOptional({ example: 'dept-3f9c0a7d1e2b', description: '部门 (技能组分组) of the tenant' })
  @IsOptional()
  @IsString()
  @Matches(ID)
  departmentId?: string;
}

export class UpdateSkillGroupDto {
  @ApiPropertyOptional({ example: 'sales_east' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  name?: string;

  @ApiPropertyOptional({ example: '华东销售' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  displayName?: string;

  @ApiPropertyOptional({ enum: SKILL_GROUP_CHANNELS })
  @IsOptional()
  @IsIn(SKILL_GROUP_CHANNELS)
  channel?: (typeof SKILL_GROUP_CHANNELS)[number];

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  transferVisible?: boolean;

  @ApiPropertyOptional({ example: '售后咨询与投诉', nullable: true, description: 'null removes the description' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(200)
  description?: string | null;

  @ApiPropertyOptional({
    example: 'dept-3f9c0a7d1e2b',
    nullable: true,
    description: 'null takes the group out of its department',
  })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Matches(ID)
  departmentId?: string | null;
}

export class SkillGroupDto {
  @ApiProperty({ example: 'sg-3f9c0a7d1e2b', description: '技能组ID' })
  id!: string;
  @ApiProperty({ example: 'sales_east' })
  name!: string;
  @ApiProperty({ example: '华东销售' })
  displayName!: string;
  @ApiProperty({ enum: SKILL_GROUP_CHANNELS })
  channel!: string;
  @ApiProperty()
  transferVisible!: boolean;
  @ApiPropertyOptional({ example: '售后咨询与投诉' })
  description?: string;
  @ApiPropertyOptional({ example: 'dept-3f9c0a7d1e2b' })
  departmentId?: string;
  @ApiProperty({ example: '2026-03-02T08:00:00.000Z' })
  createdAt!: Date;
  @ApiProperty({ example: '2026-03-05T09:30:00.000Z' })
  updatedAt!: Date;
}

export class SkillGroupPageDto extends PageMetaDto {
  @ApiProperty({ type: [SkillGroupDto] })
  items!: SkillGroupDto[];
}

export class SkillGroupQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ example: 'dept-3f9c0a7d1e2b' })
  @IsOptional()
  @IsString()
  @Matches(ID)
  departmentId?: string;
}

// ---- hotline settings ----

export class AutoAnswerDto {
  @ApiProperty({ example: true, description: '自动接听' })
  @IsBoolean()
  enabled!: boolean;

  @ApiProperty({ example: 1, minimum: 0, maximum: AUTO_ANSWER_MAX_SECONDS, description: '自动接听时长 (s)' })
  @IsInt()
  @Min(0)
  @Max(AUTO_ANSWER_MAX_SECONDS)
  seconds!: number;
}

export class AutoEndAfterCallWorkDto {
  @ApiProperty({ example: true, description: '自动结束后处理; off: after-call work lasts until the agent resumes' })
  @IsBoolean()
  enabled!: boolean;

  @ApiProperty({ example: 30, minimum: 0, maximum: AFTER_CALL_WORK_MAX_SECONDS, description: '后处理时长 (s)' })
  @IsInt()
  @Min(0)
  @Max(AFTER_CALL_WORK_MAX_SECONDS)
  seconds!: number;
}

export class AgentHotlineSettingsDto {
  @ApiPropertyOptional({ type: AutoAnswerDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AutoAnswerDto)
  autoAnswer?: AutoAnswerDto;

  @ApiPropertyOptional({ type: AutoEndAfterCallWorkDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AutoEndAfterCallWorkDto)
  autoEndAfterCallWork?: AutoEndAfterCallWorkDto;
}

export class UpdateHotlineSettingsDto extends AgentHotlineSettingsDto {
  @ApiPropertyOptional({ example: false, description: '允许个性化热线设置: agents’ own settings replace these' })
  @IsOptional()
  @IsBoolean()
  allowAgentOverride?: boolean;
}

export class HotlineSettingsDto {
  @ApiProperty({ type: AutoAnswerDto })
  autoAnswer!: AutoAnswerDto;
  @ApiProperty({ type: AutoEndAfterCallWorkDto })
  autoEndAfterCallWork!: AutoEndAfterCallWorkDto;
  @ApiProperty()
  allowAgentOverride!: boolean;
}

export class EffectiveSettingsDto {
  @ApiProperty({ example: 1, nullable: true, type: Number, description: 'null: auto-answer is off' })
  autoAnswerSeconds!: number | null;
  @ApiProperty({ example: 30, nullable: true, type: Number, description: 'null: after-call work until resumed' })
  afterCallWorkSeconds!: number | null;
  @ApiProperty({ enum: ['tenant', 'agent'] })
  source!: string;
}

// ---- agents ----

export class CreateAgentDto {
  @ApiProperty({ example: 'zhang.san@example.com', description: '登录名: an e-mail address or a phone number' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  loginName!: string;

  @ApiProperty({ example: '张三', description: '真实姓名' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  realName!: string;

  @ApiProperty({ example: '小张', description: '对外展示名' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  displayName!: string;

  @ApiPropertyOptional({
    example: ['sg-3f9c0a7d1e2b'],
    type: [String],
    description: '服务权限: the tenant’s skill groups; without one the agent cannot go online',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_SKILL_GROUPS_PER_AGENT)
  @ArrayUnique()
  @Matches(ID, { each: true })
  skillGroupIds?: string[];

  @ApiPropertyOptional({ enum: AGENT_ROLES, default: 'AGENT', description: '角色: 普通坐席 or 企业管理员' })
  @IsOptional()
  @IsIn(AGENT_ROLES)
  role?: (typeof AGENT_ROLES)[number];

  @ApiProperty({
    example: '10.1.2.50:5060',
    description: 'The agent’s SIP phone, host[:port] (default 5060): the contact of its PJSIP endpoint agent-<id>',
  })
  @Transform(trimmed)
  @IsString()
  @Matches(SIP_ADDRESS, { message: 'must be host[:port], e.g. 10.1.2.50:5060' })
  phoneAddress!: string;

  @ApiPropertyOptional({
    type: AgentHotlineSettingsDto,
    description: 'The agent’s own hotline settings; only while the tenant allows them (allowAgentOverride)',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => AgentHotlineSettingsDto)
  hotlineSettings?: AgentHotlineSettingsDto;
}

export class UpdateAgentDto {
  @ApiPropertyOptional({ example: 'zhang.san@example.com' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  loginName?: string;

  @ApiPropertyOptional({ example: '张三' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  realName?: string;

  @ApiPropertyOptional({ example: '小张' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(50)
  displayName?: string;

  @ApiPropertyOptional({
    example: ['sg-3f9c0a7d1e2b'],
    type: [String],
    description: 'Replaces the agent’s skill groups',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_SKILL_GROUPS_PER_AGENT)
  @ArrayUnique()
  @Matches(ID, { each: true })
  skillGroupIds?: string[];

  @ApiPropertyOptional({ enum: AGENT_ROLES })
  @IsOptional()
  @IsIn(AGENT_ROLES)
  role?: (typeof AGENT_ROLES)[number];

  @ApiPropertyOptional({ example: '10.1.2.50:5060', description: 'Asterisk is updated at once' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @Matches(SIP_ADDRESS, { message: 'must be host[:port], e.g. 10.1.2.50:5060' })
  phoneAddress?: string;

  @ApiPropertyOptional({ type: AgentHotlineSettingsDto, nullable: true, description: 'null removes them' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @ValidateNested()
  @Type(() => AgentHotlineSettingsDto)
  hotlineSettings?: AgentHotlineSettingsDto | null;
}

export class AgentQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ example: 'sg-3f9c0a7d1e2b', description: 'Only the agents of this skill group' })
  @IsOptional()
  @IsString()
  @Matches(ID)
  skillGroupId?: string;
}

export class FreezeAgentDto {
  @ApiProperty({ example: '违规操作', description: '冻结原因' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  reason!: string;

  @ApiPropertyOptional({
    example: '2030-01-01T00:00:00+08:00',
    description: '临时冻结 until this instant (ISO 8601, in the future); absent = 永久冻结 (permanent)',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;
}

export class UnfreezeAgentDto {
  @ApiPropertyOptional({ example: '申诉通过', description: '解冻原因' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MaxLength(200)
  reason?: string;
}

export class ChangeAgentStateDto {
  @ApiProperty({
    enum: API_TARGET_STATES,
    description: 'ONLINE (上班 / 继续工作), SHORT_BREAK (小休), SIGNED_OUT (下班); AFTER_CALL_WORK is set by the queue',
  })
  @IsIn(API_TARGET_STATES)
  state!: (typeof API_TARGET_STATES)[number];

  @ApiPropertyOptional({ enum: BREAK_REASONS, description: 'Only with SHORT_BREAK: 休息, 就餐, 培训, 辅导, 会议' })
  @IsOptional()
  @IsIn(BREAK_REASONS)
  reason?: (typeof BREAK_REASONS)[number];
}

export class StateHistoryQueryDto {
  @ApiPropertyOptional({ example: '2030-01-01T00:00:00Z', description: 'Default: 24 hours before `to`' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ example: '2030-01-02T00:00:00Z', description: 'Default: now; at most 31 days after from' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class ReservationDto {
  @ApiProperty({ example: 'k3x9q2m7a1-0-1' })
  callId!: string;
  @ApiProperty({ example: '2026-03-05T09:30:00.000Z' })
  at!: Date;
}

export class AgentStateDto {
  @ApiProperty({ example: '3f9c0a7d1e2b' })
  agentId!: string;
  @ApiProperty({ enum: AGENT_STATES })
  state!: string;
  @ApiProperty({ example: '在线' })
  label!: string;
  @ApiProperty({ example: '午休', nullable: true, type: String, description: 'Break reason of SHORT_BREAK' })
  reason!: string | null;
  @ApiProperty({ example: '2026-03-05T12:00:00.000Z' })
  since!: Date;
  @ApiProperty({ example: '2026-03-05T11:58:00.000Z', nullable: true, type: Date })
  idleSince!: Date | null;
  @ApiProperty({ nullable: true, type: ReservationDto, description: 'The call offered to or connected with it' })
  reservation!: ReservationDto | null;
}

export class StateHistoryEntryDto {
  @ApiProperty({ example: '2026-03-05T09:30:00.000Z' })
  at!: Date;
  @ApiProperty({ enum: AGENT_STATES })
  from!: string;
  @ApiProperty({ enum: AGENT_STATES })
  to!: string;
  @ApiPropertyOptional({ example: '午休' })
  reason?: string;
  @ApiProperty({ example: 'supervisor' })
  by!: string;
  @ApiPropertyOptional({ example: 'k3x9q2m7a1-0-1' })
  callId?: string;
  @ApiPropertyOptional({ example: 'offer declined' })
  note?: string;
}

export class StateHistoryDto {
  @ApiProperty({ example: '3f9c0a7d1e2b' })
  agentId!: string;
  @ApiProperty({ example: '2026-03-05T00:00:00.000Z' })
  from!: Date;
  @ApiProperty({ example: '2026-03-06T00:00:00.000Z' })
  to!: Date;
  @ApiProperty({ type: [StateHistoryEntryDto] })
  items!: StateHistoryEntryDto[];
}

export class FreezeDto {
  @ApiProperty({ example: '离职交接中' })
  reason!: string;
  @ApiProperty({ example: '2026-04-01T00:00:00.000Z', nullable: true, type: Date, description: 'null: permanent' })
  until!: Date | null;
  @ApiProperty()
  permanent!: boolean;
  @ApiProperty({ example: '2026-03-05T09:30:00.000Z' })
  at!: Date;
}

export class LastUnfreezeDto {
  @ApiPropertyOptional({ example: '申诉通过', description: '解冻原因' })
  reason?: string;
  @ApiProperty({ example: '2026-03-06T10:00:00.000Z' })
  at!: Date;
}

export class AgentDto {
  @ApiProperty({ example: '3f9c0a7d1e2b' })
  id!: string;
  @ApiProperty({ example: 'agent-3f9c0a7d1e2b', description: 'PJSIP endpoint of the agent’s phone in Asterisk' })
  endpoint!: string;
  @ApiProperty({ example: 'zhang.san@example.com' })
  loginName!: string;
  @ApiProperty({ example: '张三' })
  realName!: string;
  @ApiProperty({ example: '小张' })
  displayName!: string;
  @ApiProperty({ example: ['sg-3f9c0a7d1e2b'], type: [String] })
  skillGroupIds!: string[];
  @ApiProperty({ enum: AGENT_ROLES })
  role!: string;
  @ApiProperty({ example: '10.1.2.50:5060' })
  phoneAddress!: string;
  @ApiProperty({ nullable: true, type: FreezeDto, description: 'The freeze in force; null when not frozen' })
  freeze!: FreezeDto | null;
  @ApiPropertyOptional({ type: LastUnfreezeDto, description: 'The last 解冻, once the agent has been unfrozen' })
  lastUnfreeze?: LastUnfreezeDto;
  @ApiPropertyOptional({ type: AgentHotlineSettingsDto })
  hotlineSettings?: AgentHotlineSettingsDto;
  @ApiProperty({ type: AgentStateDto })
  state!: AgentStateDto;
  @ApiProperty({ example: '2026-03-02T08:00:00.000Z' })
  createdAt!: Date;
  @ApiProperty({ example: '2026-03-05T09:30:00.000Z' })
  updatedAt!: Date;
}

export class AgentPageDto extends PageMetaDto {
  @ApiProperty({ type: [AgentDto] })
  items!: AgentDto[];
}

export class ImportAgentsResultDto {
  @ApiProperty({ example: 2 })
  imported!: number;
  @ApiProperty({ type: [AgentDto] })
  items!: AgentDto[];
}
