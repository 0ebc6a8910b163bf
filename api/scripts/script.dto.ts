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
import { PageMetaDto } from '../common/page.dto';

const SCRIPT_CONTENT_DOC =
  'The script content (src/script/model.ts): main flows (the first is where a call starts), the intent library, ' +
  'knowledge-base entries and flows, and the global configuration. Utterance ids must be unique in the script ' +
  '(dubbing is keyed by them).';

/** Swagger's example of the script content: one flow that asks for the callee and hangs up either way. */
const SCRIPT_CONTENT_EXAMPLE = {
  flows: [
    {
      id: 'f.open',
      name: '开场白',
      entryNodeId: 'greet',
      nodes: [
        {
          kind: 'normal',
          id: 'greet',
          name: '确认身份',
          utterances: [{ id: 'greet.1', text: '您好,请问您是${custName}吗?是本人请按1,不是请按2。' }],
          allowInterrupt: true,
          tags: [],
          branches: [
            { id: 'yes', type: 'AFFIRM', name: '肯定', intentIds: ['preset.affirm'] },
            { id: 'no', type: 'NEGATE', name: '否定', intentIds: ['preset.negate'] },
          ],
        },
        {
          kind: 'jump',
          id: 'bye',
          name: '结束',
          utterances: [{ id: 'bye.1', text: '好的,感谢您的接听,再见。' }],
          tags: ['本人'],
          action: { type: 'hangup' },
        },
        {
          kind: 'jump',
          id: 'wrongPerson',
          name: '非本人',
          utterances: [{ id: 'wrongPerson.1', text: '不好意思打扰您了,再见。' }],
          tags: ['非本人'],
          action: { type: 'hangup' },
        },
      ],
      edges: [
        { fromNodeId: 'greet', branchId: 'yes', toNodeId: 'bye' },
        { fromNodeId: 'greet', branchId: 'no', toNodeId: 'wrongPerson' },
      ],
    },
  ],
};

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

  @ApiPropertyOptional({ example: '双十一后的满意度回访', maxLength: SCRIPT_REMARKS_MAX, description: '备注' })
  @IsOptional()
  @IsString()
  @MaxLength(SCRIPT_REMARKS_MAX)
  remarks?: string;

  @ApiPropertyOptional({
    example: SCRIPT_CONTENT_EXAMPLE,
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
  @ApiPropertyOptional({ example: '售后满意度回访', maxLength: SCRIPT_NAME_MAX })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(SCRIPT_NAME_MAX)
  name?: string;

  @ApiPropertyOptional({ example: '电商', maxLength: 50 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  industry?: string;

  @ApiPropertyOptional({ example: '售后回访', maxLength: 50 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  scene?: string;

  @ApiPropertyOptional({ example: '双十一后的满意度回访', maxLength: SCRIPT_REMARKS_MAX })
  @IsOptional()
  @IsString()
  @MaxLength(SCRIPT_REMARKS_MAX)
  remarks?: string;

  @ApiPropertyOptional({
    example: SCRIPT_CONTENT_EXAMPLE,
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
    example: SCRIPT_CONTENT_EXAMPLE,
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
  @ApiPropertyOptional({ example: '电商', description: '所属行业 filter (exact)' })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  industry?: string;

  @ApiPropertyOptional({ example: '售后回访', description: '选择场景 filter (exact)' })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  scene?: string;

  @ApiPropertyOptional({ example: '回访', description: '话术名称 search (a part of the name)' })
  @IsOptional()
  @IsString()
  @MaxLength(SCRIPT_NAME_MAX)
  name?: string;
}

export class VersionQueryDto {
  @ApiPropertyOptional({ example: 2, description: 'A version number; default the draft, else the latest version' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  version?: number;
}

export class SynthesizeDubbingDto {
  @ApiPropertyOptional({
    example: ['greet.1', 'bye.1'],
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
    example: 2,
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

  @ApiPropertyOptional({ example: '我不需要', description: 'What the callee says over the prompt (barge-in)' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  bargeIn?: string;

  @ApiPropertyOptional({ description: 'The callee hangs up' })
  @IsOptional()
  @IsBoolean()
  hangup?: boolean;

  @ApiPropertyOptional({
    example: 1800,
    description: 'Let time pass, in seconds (e.g. to reach the maximum call duration)',
  })
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
  @ApiProperty({ example: 'no edge leaves this branch' })
  reason!: string;
  @ApiProperty({ enum: ['structure', 'completeness', 'content'] })
  rule!: string;
  @ApiPropertyOptional({ example: 'f.open' })
  flowId?: string;
  @ApiPropertyOptional({ example: 'greet' })
  nodeId?: string;
  @ApiPropertyOptional({ example: 'demo.satisfied' })
  intentId?: string;
  @ApiPropertyOptional({ example: 'demo.kb.return' })
  kbEntryId?: string;
  @ApiPropertyOptional({ example: 'yes' })
  value?: string;
}

export class FlowStatusDto {
  @ApiProperty({ enum: ['main', 'kb'] })
  scope!: string;
  @ApiProperty({ example: 'f.open' })
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
  @ApiProperty({ example: '6a1f0c2d3e4b5a697887' })
  id!: string;
  @ApiProperty({ example: '售后满意度回访' })
  name!: string;
  @ApiProperty({ example: '电商' })
  industry!: string;
  @ApiProperty({ example: '售后回访' })
  scene!: string;
  @ApiProperty({ enum: ['marketing', 'notification', 'verificationCode', 'followUp'] })
  sceneClass!: string;
  @ApiPropertyOptional({ example: '双十一后的满意度回访' })
  remarks?: string;
  @ApiPropertyOptional({ example: 3, description: 'The editable version, if any' })
  draftVersion?: number;
  @ApiProperty({ example: 3 })
  latestVersion!: number;
  @ApiProperty({ enum: ['draft', 'submitted', 'approved', 'rejected'] })
  latestStatus!: string;
  @ApiPropertyOptional({ example: 2, description: 'What a task pins by default' })
  latestApproved?: number;
  @ApiProperty({ example: '2026-03-02T08:00:00.000Z' })
  createdAt!: Date;
  @ApiProperty({ example: '2026-03-05T10:00:00.000Z' })
  updatedAt!: Date;
}

export class ScriptVersionDto {
  @ApiProperty({ example: '6a1f0c2d3e4b5a697887' })
  scriptId!: string;
  @ApiProperty({ example: 2 })
  version!: number;
  @ApiProperty({ enum: ['draft', 'submitted', 'approved', 'rejected'] })
  status!: string;
  @ApiPropertyOptional({ example: '开场白含有营销内容', description: '驳回原因' })
  rejectReason?: string;
  @ApiPropertyOptional({ example: 1, description: 'The version this one was edited from' })
  basedOn?: number;
  @ApiPropertyOptional({
    example: {
      id: '6a1f0c2d3e4b5a697887',
      name: '售后满意度回访',
      industry: '电商',
      scene: '售后回访',
      sceneClass: 'followUp',
      ...SCRIPT_CONTENT_EXAMPLE,
    },
    ...SCRIPT_CONTENT_JSON_SCHEMA,
    type: 'object',
    additionalProperties: true,
    description: 'The whole script (the content plus id, name, industry, scene, sceneClass, remarks)',
  })
  script?: Record<string, unknown>;
  @ApiPropertyOptional({
    example: {
      'greet.1': { status: 'recorded', media: 'sound:custom/waihu/tts-0123abcd', source: 'tts', voice: 'female' },
      'bye.1': { status: 'notRecorded', source: 'tts' },
    },
    type: 'object',
    additionalProperties: true,
    description: 'Per utterance id: status, media (sound:…), source (tts | upload), voice',
  })
  dubbing?: Record<string, unknown>;
  @ApiPropertyOptional({ type: ValidationReportDto, description: 'The report of the last save (warnings)' })
  report?: ValidationReportDto;
  @ApiPropertyOptional({ example: '2026-03-05T09:30:00.000Z' })
  submittedAt?: Date;
  @ApiPropertyOptional({ example: '2026-03-05T10:00:00.000Z' })
  reviewedAt?: Date;
  @ApiProperty({ example: '2026-03-02T08:00:00.000Z' })
  createdAt!: Date;
  @ApiProperty({ example: '2026-03-05T10:00:00.000Z' })
  updatedAt!: Date;
}

export class ScriptDetailDto extends ScriptHeadDto {
  @ApiProperty({ type: ScriptVersionDto, description: 'The draft, else the latest version' })
  current!: ScriptVersionDto;
}

export class ScriptPageDto extends PageMetaDto {
  @ApiProperty({ type: [ScriptHeadDto] })
  items!: ScriptHeadDto[];
}

export class DubbingRowDto {
  @ApiProperty({ example: 'greet.1' })
  utteranceId!: string;
  @ApiProperty({ enum: ['main', 'kb', 'global'], description: '话术类型 主线流程 / 知识库 / 全局配置' })
  kind!: string;
  @ApiProperty({ example: '开场白/确认身份', description: '话术来源' })
  source!: string;
  @ApiProperty({ example: '您好,请问您是${custName}吗?是本人请按1,不是请按2。', description: '话术内容' })
  text!: string;
  @ApiProperty({ enum: ['recorded', 'notRecorded', 'notNeeded', 'synthesising'] })
  status!: string;
  @ApiProperty({ description: 'Must be recorded before 提交审核' })
  required!: boolean;
  @ApiProperty({ enum: ['tts', 'upload'], description: '放音类型' })
  playback!: string;
  @ApiPropertyOptional({ example: 'sound:custom/waihu/tts-0123abcd' })
  media?: string;
  @ApiPropertyOptional({ example: 3.2 })
  seconds?: number;
  @ApiPropertyOptional({ example: 'female' })
  voice?: Record<string, unknown>;
  @ApiProperty({ example: 'flows[0].nodes[0].utterances[0]' })
  path!: string;
  @ApiProperty({ example: 'text' })
  field!: string;
}

export class DubbingListDto {
  @ApiProperty({ example: '6a1f0c2d3e4b5a697887' })
  scriptId!: string;
  @ApiProperty({ example: 2 })
  version!: number;
  @ApiProperty({
    example: { required: 3, recorded: 2, notRecorded: 1, notNeeded: 4, synthesising: 0 },
    description: 'Counts: 需要录音 (required), 已录音, 未录音, 无需录音, 合成中',
  })
  counts!: Record<string, number>;
  @ApiProperty({ type: [DubbingRowDto] })
  rows!: DubbingRowDto[];
  @ApiPropertyOptional({
    example: [{ utteranceId: 'greet.2', reason: 'espeak-ng exited with code 1' }],
    description: 'Utterances whose synthesis failed in this request',
  })
  failed?: { utteranceId: string; reason: string }[];
}

/** One dialog turn as the console and the test runs return it (Swagger example). */
const TURN_EXAMPLE = {
  seq: 1,
  atMs: 4200,
  input: 'dtmf',
  node: { scope: 'main', flowId: 'f.open', nodeId: 'greet' },
  calleeKey: '1',
  branchType: 'AFFIRM',
  branchId: 'yes',
  intentId: 'preset.affirm',
  via: 'dtmf',
  robot: [{ utteranceId: 'bye.1', text: '好的,感谢您的接听,再见。' }],
  next: null,
  tagsAdded: ['本人'],
  end: { kind: 'hangup', reason: 'jumpNode' },
};

export class ConsoleReplyDto {
  @ApiProperty({ example: '5d1e2f3a4b5c6d7e8f9a0b1c' })
  sessionId!: string;
  @ApiProperty({ example: '6a1f0c2d3e4b5a697887' })
  scriptId!: string;
  @ApiProperty({ example: 2 })
  version!: number;
  @ApiProperty({ example: ['好的,感谢您的接听,再见。'], type: [String], description: 'What the robot said, in order' })
  robot!: string[];
  @ApiProperty({
    example: [TURN_EXAMPLE],
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'Dialog turns: input, node, branch type, intent, KB entry, module, next node, tags',
  })
  turns!: Record<string, unknown>[];
  @ApiProperty()
  ended!: boolean;
  @ApiPropertyOptional({
    example: { kind: 'hangup', reason: 'jumpNode', tags: ['本人'] },
    description: 'How the call ended: hangup or transfer, the reason and the tags',
  })
  end?: Record<string, unknown>;
}

export class ConsoleSessionDto {
  @ApiProperty({ example: '5d1e2f3a4b5c6d7e8f9a0b1c' })
  sessionId!: string;
  @ApiProperty({ example: '6a1f0c2d3e4b5a697887' })
  scriptId!: string;
  @ApiProperty({ example: 2 })
  version!: number;
  @ApiProperty()
  ended!: boolean;
  @ApiProperty({
    example: [
      '机器人: 您好,请问您是张三吗?是本人请按1,不是请按2。',
      '用户: [按键 1]',
      '机器人: 好的,感谢您的接听,再见。',
    ],
    type: [String],
    description: '机器人: … / 用户: … / […]',
  })
  transcript!: string[];
  @ApiProperty({
    example: [TURN_EXAMPLE],
    type: 'array',
    items: { type: 'object', additionalProperties: true },
  })
  turns!: Record<string, unknown>[];
}
