/**
 * DTOs of the in-call controls (seed §5.3: 保持, 转接, 挂断; api/calls/call-control.controller.ts). The response is
 * the call's control state as the contact workflow answers it (workflows/definitions.ts CallControlState).
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** 转接: give exactly one target. */
export class TransferCallDto {
  @ApiPropertyOptional({
    description: 'Another agent of the tenant (online and idle, else 409 naming why): rung directly',
    example: '3f9c0a7d1e2b',
  })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MaxLength(64)
  agentId?: string;

  @ApiPropertyOptional({
    description: 'A skill group of the tenant: the call joins its queue, as a first transfer does',
    example: '7c1d2e3f4a5b',
  })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MaxLength(64)
  skillGroupId?: string;

  @ApiPropertyOptional({
    description: 'An external mobile or landline number in E.164, dialled through the trunk',
    example: '+8613912345678',
  })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @Matches(/^\+[1-9]\d{5,14}$/, { message: 'number must be an E.164 number (+ and 6–15 digits)' })
  number?: string;
}

export class HandoverDto {
  @ApiProperty({ example: '2026-03-05T09:31:00.000Z', description: 'When the command was carried out' })
  at!: string;
  @ApiPropertyOptional({
    example: '3f9c0a7d1e2b',
    description: 'The agent whose leg ended (absent: an external party)',
  })
  fromAgentId?: string;
  @ApiProperty({ enum: ['agent', 'skillGroup', 'number'] })
  to!: string;
  @ApiPropertyOptional({ example: '9a8b7c6d5e4f' })
  agentId?: string;
  @ApiPropertyOptional({ example: '7c1d2e3f4a5b' })
  skillGroupId?: string;
  @ApiPropertyOptional({ example: '+8613912345678' })
  number?: string;
  @ApiProperty({ example: 'agent', description: 'Who gave the command: agent, or the caller’s role' })
  by!: string;
  @ApiPropertyOptional({
    enum: ['connected', 'noAnswer', 'rejected', 'failed', 'calleeGone'],
    description: 'How it went; a target that did not answer sends the call back to the skill group’s queue',
  })
  result?: string;
}

export class CallControlViewDto {
  @ApiProperty({ example: 'k3x9q2m7a1-0-1' })
  attemptId!: string;
  @ApiProperty({
    enum: ['talking', 'held', 'transferring', 'ended'],
    description: 'talking: bridged with a person; held: the callee hears music; transferring: between parties',
  })
  phase!: string;
  @ApiProperty({ example: '3f9c0a7d1e2b', nullable: true, type: String, description: 'The agent connected now' })
  agentId!: string | null;
  @ApiProperty({
    example: null,
    nullable: true,
    type: String,
    description: 'The external number connected now (masked for roles that do not see numbers)',
  })
  number!: string | null;
  @ApiProperty({ example: '7c1d2e3f4a5b', description: 'The skill group whose queue the call belongs to now' })
  skillGroupId!: string;
  @ApiProperty({ type: [HandoverDto] })
  handovers!: HandoverDto[];
}
