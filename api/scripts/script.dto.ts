/**
 * Request and response shapes of the script API. The script content itself (flows, intents, KB, global
 * configuration) is checked by a zod schema (./script-shape.ts) and then by src/script/validate.ts, which name the
 * node and the field of each problem; its OpenAPI description is generated from the same zod schema.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { TTS_SPEEDS, TTS_VOICE_TYPES, type TtsSpeed, type TtsVoiceType } from '../../activities/speech/espeak-tts';
import { SCRIPT_NAME_MAX, SCRIPT_REMARKS_MAX } from '../../src/script/model';
import { ListQueryDto } from '../tasks/task.dto';
import { SCRIPT_CONTENT_JSON_SCHEMA } from './script-shape';

const SCRIPT_CONTENT_DOC =
  'The script content (src/script/model.ts): main flows (the first is where a call starts), the intent library, ' +
  'knowledge-base entries and flows, and the global configuration. Utterance ids must be unique in the script ' +
  '(dubbing is keyed by them).';

export class CreateScriptDto {
  @ApiProperty({ maxLength: SCRIPT_NAME_MAX, example: '售后满意度回访', description: '话术名称' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(SCRIPT_NAME_MAX)
  name!: string;

  @ApiProperty({ maxLength: 50, example: '电商', description: '所属行业' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  industry!: string;

  @ApiProperty({
    maxLength: 50,
    example: '售后回访',
    description:
      '选择场景. With the industry it decides the scene class (DECISION N4): 验证码 → verification code; 回访, ' +
      '满意度, 调研 → follow-up; 通知, 提醒, 预约 → notification; anything else marketing (the industry bans of §9 apply).',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  scene!: string;

  @ApiPropertyOptional({ maxLength: SCRIPT_REMARKS_MAX, description: '备注' })
  @IsOptional()
  @IsString()
  @MaxLength(SCRIPT_REMARKS_MAX)
  remarks?: string;

  @ApiPropertyOptional({
    ...SCRIPT_CONTENT_JSON_SCHEMA,
    type: 'object',
    additionalProperties: false,
    description: `${SCRIPT_CONTENT_DOC} Optional here: a part left out starts with the seed's presets (preset intents, the six preset KB entries, the default global configuration; no flows).`,
  })
  @IsOptional()
  @IsObject()
  script?: Record<string, unknown>;
}

export class UpdateScriptDraftDto {
  @ApiPropertyOptional({ maxLength: SCRIPT_NAME_MAX })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(SCRIPT_NAME_MAX)
  name?: string;

  @ApiPropertyOptional({ maxLength: 50 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  industry?: string;

  @ApiPropertyOptional({ maxLength: 50 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  scene?: string;

  @ApiPropertyOptional({ maxLength: SCRIPT_REMARKS_MAX })
  @IsOptional()
  @IsString()
  @MaxLength(SCRIPT_REMARKS_MAX)
  remarks?: string;

  @ApiPropertyOptional({
    ...SCRIPT_CONTENT_JSON_SCHEMA,
    type: 'object',
    additionalProperties: false,
    description: `${SCRIPT_CONTENT_DOC} The whole content replaces the draft's; omit it to change only the basic information.`,
  })
  @IsOptional()
  @IsObject()
  script?: Record<string, unknown>;
}

export class ValidateScriptDto {
  @ApiPropertyOptional({
    ...SCRIPT_CONTENT_JSON_SCHEMA,
    type: 'object',
    additionalProperties: false,
    description: `${SCRIPT_CONTENT_DOC} Content to check without saving it; omit it to check the current draft.`,
  })
  @IsOptional()
  @IsObject()
  script?: Record<string, unknown>;
}

export class ValidateQueryDto {
  @ApiPropertyOptional({
    enum: ['save', 'submit'],
    default: 'submit',
    description: 'save: what blocks a draft save; submit: what blocks 提交审核 (dubbing included)',
  })
  @IsOptional()
  @IsIn(['save', 'submit'])
  stage?: 'save' | 'submit';
}

export class RejectScriptDto {
  @ApiProperty({ maxLength: 200, example: '开场白含有营销内容', description: '驳回原因' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  reason!: string;
}

export class ScriptListQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ description: '所属行业 filter (exact)' })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  industry?: string;

  @ApiPropertyOptional({ description: '选择场景 filter (exact)' })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  scene?: string;

  @ApiPropertyOptional({ description: '话术名称 search (a part of the name)' })
  @IsOptional()
  @IsString()
  @MaxLength(SCRIPT_NAME_MAX)
  name?: string;
}

export class VersionQueryDto {
  @ApiPropertyOptional({ description: 'A version number; default the draft, else the latest version' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  version?: number;
}

export class SynthesizeDubbingDto {
  @ApiPropertyOptional({
    type: [String],
    description:
      'Utterances to synthesise (again, even if recorded). Default: every utterance without variables that is not ' +
      'recorded (批量语音合成). Settings do not re-voice audio already made (§1.11) unless it is named here.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @IsString({ each: true })
  utteranceIds?: string[];

  @ApiPropertyOptional({ enum: TTS_VOICE_TYPES, default: 'female', description: '声音类型 女声 / 男声' })
  @IsOptional()
  @IsIn(TTS_VOICE_TYPES)
  voiceType?: TtsVoiceType;

  @ApiPropertyOptional({ enum: TTS_SPEEDS, default: 'normal', description: '语速 很慢 / 慢 / 正常 / 快 / 很快' })
  @IsOptional()
  @IsIn(TTS_SPEEDS)
  speed?: TtsSpeed;

  @ApiPropertyOptional({ minimum: 0, maximum: 100, default: 50, description: '音量' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  volume?: number;
}

export class StartConsoleDto {
  @ApiPropertyOptional({
    description: 'The version to talk to (a draft is allowed); default the draft, else the latest',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { custName: '张三', shopName: '小米商城' },
    description: 'The contact’s variables (fewer than 150 characters each, no links — §9)',
  })
  @IsOptional()
  @IsObject()
  variables?: Record<string, string>;
}

export class ConsoleTurnDto {
  @ApiPropertyOptional({ example: '是的', description: 'What the callee says (after the prompt ended)' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  text?: string;

  @ApiPropertyOptional({ example: '1', description: 'A DTMF key' })
  @IsOptional()
  @Matches(/^[0-9*#]$/, { message: 'a key is one of 0-9 * #' })
  key?: string;

  @ApiPropertyOptional({ description: 'The callee said nothing (the listen timed out)' })
  @IsOptional()
  @IsBoolean()
  silence?: boolean;

  @ApiPropertyOptional({ description: 'What the callee says over the prompt (barge-in)' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  bargeIn?: string;

  @ApiPropertyOptional({ description: 'The callee hangs up' })
  @IsOptional()
  @IsBoolean()
  hangup?: boolean;

  @ApiPropertyOptional({ description: 'Let time pass, in seconds (e.g. to reach the maximum call duration)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  waitSeconds?: number;
}

// --- Responses (for the OpenAPI document) ---

export class ScriptProblemDto {
  @ApiProperty({ example: 'flows[0].nodes[1]', description: 'Where in the script; empty for the script itself' })
  path!: string;
  @ApiProperty({ example: 'branches[0]', description: 'The field of that object' })
  field!: string;
  @ApiProperty()
  reason!: string;
  @ApiProperty({ enum: ['structure', 'completeness', 'content'] })
  rule!: string;
  @ApiPropertyOptional()
  flowId?: string;
  @ApiPropertyOptional()
  nodeId?: string;
  @ApiPropertyOptional()
  intentId?: string;
  @ApiPropertyOptional()
  kbEntryId?: string;
  @ApiPropertyOptional()
  value?: string;
}

export class FlowStatusDto {
  @ApiProperty({ enum: ['main', 'kb'] })
  scope!: string;
  @ApiProperty()
  flowId!: string;
  @ApiProperty({ description: 'false = 未完成' })
  complete!: boolean;
}

export class ValidationReportDto {
  @ApiProperty({ description: 'Nothing blocks at this stage' })
  ok!: boolean;
  @ApiProperty({ type: [ScriptProblemDto] })
  problems!: ScriptProblemDto[];
  @ApiProperty({ type: [ScriptProblemDto] })
  warnings!: ScriptProblemDto[];
  @ApiProperty({ type: [FlowStatusDto] })
  flows!: FlowStatusDto[];
}

export class ScriptHeadDto {
  @ApiProperty()
  id!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty()
  industry!: string;
  @ApiProperty()
  scene!: string;
  @ApiProperty({ enum: ['marketing', 'notification', 'verificationCode', 'followUp'] })
  sceneClass!: string;
  @ApiPropertyOptional()
  remarks?: string;
  @ApiPropertyOptional({ description: 'The editable version, if any' })
  draftVersion?: number;
  @ApiProperty()
  latestVersion!: number;
  @ApiProperty({ enum: ['draft', 'submitted', 'approved', 'rejected'] })
  latestStatus!: string;
  @ApiPropertyOptional({ description: 'What a task pins by default' })
  latestApproved?: number;
  @ApiProperty()
  createdAt!: Date;
  @ApiProperty()
  updatedAt!: Date;
}

export class ScriptVersionDto {
  @ApiProperty()
  scriptId!: string;
  @ApiProperty()
  version!: number;
  @ApiProperty({ enum: ['draft', 'submitted', 'approved', 'rejected'] })
  status!: string;
  @ApiPropertyOptional({ description: '驳回原因' })
  rejectReason?: string;
  @ApiPropertyOptional({ description: 'The version this one was edited from' })
  basedOn?: number;
  @ApiPropertyOptional({
    ...SCRIPT_CONTENT_JSON_SCHEMA,
    type: 'object',
    additionalProperties: true,
    description: 'The whole script (the content plus id, name, industry, scene, sceneClass, remarks)',
  })
  script?: Record<string, unknown>;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Per utterance id: status, media (sound:…), source (tts | upload), voice',
  })
  dubbing?: Record<string, unknown>;
  @ApiPropertyOptional({ type: ValidationReportDto, description: 'The report of the last save (warnings)' })
  report?: ValidationReportDto;
  @ApiPropertyOptional()
  submittedAt?: Date;
  @ApiPropertyOptional()
  reviewedAt?: Date;
  @ApiProperty()
  createdAt!: Date;
  @ApiProperty()
  updatedAt!: Date;
}

export class ScriptDetailDto extends ScriptHeadDto {
  @ApiProperty({ type: ScriptVersionDto, description: 'The draft, else the latest version' })
  current!: ScriptVersionDto;
}

export class ScriptPageDto {
  @ApiProperty()
  total!: number;
  @ApiProperty()
  page!: number;
  @ApiProperty()
  pageSize!: number;
  @ApiProperty({ type: [ScriptHeadDto] })
  items!: ScriptHeadDto[];
}

export class DubbingRowDto {
  @ApiProperty()
  utteranceId!: string;
  @ApiProperty({ enum: ['main', 'kb', 'global'], description: '话术类型 主线流程 / 知识库 / 全局配置' })
  kind!: string;
  @ApiProperty({ description: '话术来源' })
  source!: string;
  @ApiProperty({ description: '话术内容' })
  text!: string;
  @ApiProperty({ enum: ['recorded', 'notRecorded', 'notNeeded', 'synthesising'] })
  status!: string;
  @ApiProperty({ description: 'Must be recorded before 提交审核' })
  required!: boolean;
  @ApiProperty({ enum: ['tts', 'upload'], description: '放音类型' })
  playback!: string;
  @ApiPropertyOptional({ example: 'sound:custom/waihu/tts-0123abcd' })
  media?: string;
  @ApiPropertyOptional()
  seconds?: number;
  @ApiPropertyOptional()
  voice?: Record<string, unknown>;
  @ApiProperty()
  path!: string;
  @ApiProperty()
  field!: string;
}

export class DubbingListDto {
  @ApiProperty()
  scriptId!: string;
  @ApiProperty()
  version!: number;
  @ApiProperty({ description: 'Counts: 需要录音 (required), 已录音, 未录音, 无需录音, 合成中' })
  counts!: Record<string, number>;
  @ApiProperty({ type: [DubbingRowDto] })
  rows!: DubbingRowDto[];
  @ApiPropertyOptional({ description: 'Utterances whose synthesis failed in this request' })
  failed?: { utteranceId: string; reason: string }[];
}

export class ConsoleReplyDto {
  @ApiProperty()
  sessionId!: string;
  @ApiProperty()
  scriptId!: string;
  @ApiProperty()
  version!: number;
  @ApiProperty({ type: [String], description: 'What the robot said, in order' })
  robot!: string[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'Dialog turns: input, node, branch type, intent, KB entry, module, next node, tags',
  })
  turns!: Record<string, unknown>[];
  @ApiProperty()
  ended!: boolean;
  @ApiPropertyOptional({ description: 'How the call ended: hangup or transfer, the reason and the tags' })
  end?: Record<string, unknown>;
}

export class ConsoleSessionDto {
  @ApiProperty()
  sessionId!: string;
  @ApiProperty()
  scriptId!: string;
  @ApiProperty()
  version!: number;
  @ApiProperty()
  ended!: boolean;
  @ApiProperty({ type: [String], description: '机器人: … / 用户: … / […]' })
  transcript!: string[];
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } })
  turns!: Record<string, unknown>[];
}
