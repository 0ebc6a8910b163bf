/**
 * ListDialog's (and GetMyCallDialog's) answer, for the OpenAPI document only: mirrors DialogController.dialog,
 * which maps the stored dialog record (activities/mongo/dialog-repository.ts) and the engine's DialogTurn
 * (src/script/engine.ts) with `atMs` turned into an ISO `at`.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BranchType } from '../../src/script/model';

export class NodeRefDto {
  @ApiProperty({ enum: ['main', 'kb'], example: 'main' })
  scope!: string;
  @ApiProperty({ example: 'flow_main' })
  flowId!: string;
  @ApiProperty({ example: 'node_greeting' })
  nodeId!: string;
}

export class SpokenUtteranceDto {
  @ApiProperty({ example: 'u-3' })
  utteranceId!: string;
  @ApiProperty({ example: '张先生您好，这里是某某银行客服，耽误您一分钟可以吗？' })
  text!: string;
}

export class TurnEndDto {
  @ApiProperty({ enum: ['hangup', 'transfer'], example: 'hangup' })
  kind!: string;
  @ApiProperty({ example: 'jumpNode', description: 'jumpNode, kbAnswer, deadEnd or a global module key' })
  reason!: string;
  @ApiPropertyOptional({ example: 'sg_sales' })
  skillGroupId?: string;
}

export class DialogTurnDto {
  @ApiProperty({ example: 1 })
  seq!: number;
  @ApiProperty({ example: '2025-07-01T09:00:08.120Z', description: 'UTC' })
  at!: string;
  @ApiProperty({
    enum: ['start', 'speech', 'dtmf', 'silence', 'bargeIn', 'deadline', 'calleeHangup', 'transferFailed'],
    example: 'speech',
  })
  input!: string;
  @ApiProperty({ type: NodeRefDto, description: 'The node whose branches the input was classified against' })
  node!: NodeRefDto;
  @ApiPropertyOptional({ example: '可以，你说吧' })
  calleeText?: string;
  @ApiPropertyOptional({ example: '1' })
  calleeKey?: string;
  @ApiPropertyOptional({ description: 'A barge-in over a prompt that does not allow it: logged, otherwise ignored' })
  bargeInIgnored?: boolean;
  @ApiPropertyOptional({ enum: Object.values(BranchType), example: 'AFFIRM' })
  branchType?: string;
  @ApiPropertyOptional({ example: 'br_yes' })
  branchId?: string;
  @ApiPropertyOptional({ example: 'intent_affirm' })
  intentId?: string;
  @ApiPropertyOptional({ example: 'kb_price' })
  kbEntryId?: string;
  @ApiPropertyOptional({ example: 'noReply', description: 'The global module that answered this turn' })
  module?: string;
  @ApiPropertyOptional({ enum: ['keyword', 'similarity', 'any', 'dtmf'], example: 'keyword' })
  via?: string;
  @ApiPropertyOptional({ example: 0.92 })
  score?: number;
  @ApiProperty({ type: [SpokenUtteranceDto] })
  robot!: SpokenUtteranceDto[];
  @ApiProperty({
    type: NodeRefDto,
    nullable: true,
    description: 'Where the dialog listens next; null once it has ended',
  })
  next!: NodeRefDto | null;
  @ApiProperty({ example: ['意向客户'] })
  tagsAdded!: string[];
  @ApiPropertyOptional({ type: TurnEndDto })
  end?: TurnEndDto;
}

export class ScriptRefDto {
  @ApiProperty({ example: 'scr_7c1d2e3f4a5b6c7d8e9f' })
  scriptId!: string;
  @ApiProperty({ example: 3 })
  version!: number;
}

export class DialogEndDto {
  @ApiProperty({ enum: ['hangup', 'transfer', 'calleeHangup', 'lost'], example: 'hangup' })
  kind!: string;
  @ApiPropertyOptional({ example: 'jumpNode', description: 'jumpNode, kbAnswer, deadEnd or a global module key' })
  reason?: string;
  @ApiPropertyOptional({ example: 'sg_sales' })
  skillGroupId?: string;
}

export class DialogDto {
  @ApiProperty({ example: '9b1f0c2d3e4a5b6c7d8e-0-1' })
  attemptId!: string;
  @ApiProperty({ example: '9b1f0c2d3e4a5b6c7d8e' })
  taskId!: string;
  @ApiProperty({ example: 0, description: 'The contact’s 0-based position in the list' })
  contactIndex!: number;
  @ApiProperty({ example: 1 })
  attempt!: number;
  @ApiProperty({ type: ScriptRefDto, description: 'The script version the robot ran' })
  script!: ScriptRefDto;
  @ApiProperty({ example: ['意向客户'] })
  tags!: string[];
  @ApiProperty({ type: DialogEndDto })
  end!: DialogEndDto;
  @ApiProperty({ type: [DialogTurnDto] })
  turns!: DialogTurnDto[];
}
