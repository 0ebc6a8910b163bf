/**
 * The script regression check (issue #9 item 5) as a route: before a version is approved, replay the dialogs recorded
 * from real calls of an earlier version through it and list, per call, the first turn that would now go differently.
 * The replay and comparison are src/script/regression.ts; this file only loads the two versions and the dialogs.
 *
 * Read-only, so managers (who wrote the change), supervisors (who approve it) and auditors may run it.
 */
import { Controller, Get, Inject, Param, ParseIntPipe, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { Repositories } from '../../activities/mongo/connection';
import { DomainError, NotFound } from '../../src/errors';
import { checkRegression, COMPARED_FIELDS, type CallRegression } from '../../src/script/regression';
import { CurrentPrincipal, Roles, type Principal } from '../auth/auth';
import { REPOSITORIES } from '../common/tokens';

export const REGRESSION_LIMIT_MAX = 1000;

export class RegressionQueryDto {
  @ApiPropertyOptional({
    example: 1,
    minimum: 1,
    description: 'The version whose recorded calls are replayed; default the latest approved version before `version`',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  against?: number;

  @ApiPropertyOptional({ default: 200, minimum: 1, maximum: REGRESSION_LIMIT_MAX, description: 'Newest calls first' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(REGRESSION_LIMIT_MAX)
  limit?: number;
}

class NodeRefDto {
  @ApiProperty({ enum: ['main', 'kb'] }) scope!: string;
  @ApiProperty({ example: 'f.survey' }) flowId!: string;
  @ApiProperty({ example: 'rate' }) nodeId!: string;
}

class HeardDto {
  @ApiProperty({
    enum: ['start', 'speech', 'dtmf', 'silence', 'bargeIn', 'deadline', 'calleeHangup', 'transferFailed'],
  })
  input!: string;
  @ApiPropertyOptional({ example: '还行吧' }) calleeText?: string;
  @ApiPropertyOptional({ example: '1' }) calleeKey?: string;
}

class TurnDifferenceDto {
  @ApiProperty({ example: 5, description: 'The turn number in the recorded call' }) seq!: number;
  @ApiProperty({ enum: [...COMPARED_FIELDS, 'turn'], description: '`turn`: one side has no turn there at all' })
  field!: string;
  @ApiProperty({ example: 'sat', description: 'The recorded value (null = none)', nullable: true }) before!: unknown;
  @ApiProperty({
    example: 'unsat',
    description: 'The value the replay through `version` gives (null = none)',
    nullable: true,
  })
  after!: unknown;
  @ApiProperty({ type: HeardDto, description: 'What the callee did at that turn' }) heard!: HeardDto;
  @ApiProperty({ type: NodeRefDto, description: 'The node the turn was classified at' }) node!: NodeRefDto;
}

class CallRegressionDto {
  @ApiProperty({ example: '9b1f0c2d3e4a5b6c7d8e-0-1', description: 'The attempt id (the call record)' })
  attemptId!: string;
  @ApiProperty({ example: '9b1f0c2d3e4a5b6c7d8e' }) taskId!: string;
  @ApiProperty({ enum: ['same', 'different', 'notReplayable'] }) status!: string;
  @ApiProperty({ example: 6, description: 'Turns in the recorded call' }) turns!: number;
  @ApiPropertyOptional({ type: TurnDifferenceDto, description: 'The first turn that now goes differently' })
  first?: TurnDifferenceDto;
  @ApiPropertyOptional({
    example: 3,
    description: 'notReplayable: the turn the replay stopped at (the turns before it agreed)',
  })
  seq?: number;
  @ApiPropertyOptional({ example: 'a key pressed over a prompt that did not allow barge-in' }) reason?: string;
}

export class RegressionReportDto {
  @ApiProperty({ example: '3f9a1c0e7b2d4a68' }) scriptId!: string;
  @ApiProperty({ example: 2, description: 'The version checked' }) version!: number;
  @ApiProperty({ example: 1, description: 'The version whose recorded calls were replayed' }) against!: number;
  @ApiProperty({ example: 200, description: 'Calls replayed (the newest `limit`)' }) calls!: number;
  @ApiProperty({ example: 187 }) same!: number;
  @ApiProperty({ example: 12 }) different!: number;
  @ApiProperty({ example: 1 }) notReplayable!: number;
  @ApiProperty({ description: 'Always false: dialog records keep no contact variables, and wording is not compared' })
  variablesCompared!: boolean;
  @ApiProperty({ type: [CallRegressionDto], description: 'Differing calls first, then the rest, newest first' })
  results!: CallRegressionDto[];
}

@ApiTags('scripts')
@ApiBearerAuth()
@Controller('scripts')
export class ScriptRegressionController {
  constructor(@Inject(REPOSITORIES) private readonly repos: Repositories) {}

  @Get(':id/versions/:version/regression')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'id', description: 'Script id' })
  @ApiParam({ name: 'version', description: 'The version to check (typically the one awaiting review)' })
  @ApiOperation({
    operationId: 'CheckScriptRegression',
    summary: 'Replay real calls of an earlier version through this one: the first turn each would now change',
    description:
      'Each recorded dialog of `against` (newest `limit`) is re-run turn by turn through `version` — the callee’s ' +
      'words re-classified by its matcher, keys, silences, barge-ins, the maximum duration at the recorded instants — ' +
      'and compared on input, node, ignored barge-in, branch, intent, KB entry, global module, next node and end. ' +
      'Wording is not compared (records keep no contact variables). A key pressed over a prompt that ignored it cannot ' +
      'be replayed: such a call is `notReplayable` from that turn. Writes nothing.',
  })
  @ApiOkResponse({ type: RegressionReportDto })
  async check(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('version', ParseIntPipe) version: number,
    @Query() q: RegressionQueryDto,
  ): Promise<RegressionReportDto> {
    const scripts = this.repos.scripts;
    const target = await scripts.getVersion(p.tenantId, id, version);
    if (!target) throw new NotFound('script version');
    const against = q.against ?? (await this.previousApproved(p.tenantId, id, version));
    if (against === version) {
      throw new DomainError('a version is compared with another one', 422, [
        { field: 'against', reason: 'must differ from version', value: String(against) },
      ]);
    }
    if (!(await scripts.getVersion(p.tenantId, id, against))) throw new NotFound('script version `against`');

    const dialogs = await this.repos.dialogs.listByScriptVersion(p.tenantId, id, against, q.limit ?? 200);
    const report = checkRegression(
      target.script,
      dialogs.map((d) => ({ id: d._id, turns: d.turns })),
    );
    const taskOf = new Map(dialogs.map((d) => [d._id, d.taskId]));
    const rank: Record<CallRegression['status'], number> = { different: 0, notReplayable: 1, same: 2 };
    const results = report.calls
      .map(({ id: attemptId, ...rest }) => ({ attemptId, taskId: taskOf.get(attemptId) ?? '', ...rest }))
      .sort((a, b) => rank[a.status] - rank[b.status]);
    return {
      scriptId: id,
      version,
      against,
      calls: report.calls.length,
      same: report.same,
      different: report.different,
      notReplayable: report.notReplayable,
      variablesCompared: false,
      results,
    };
  }

  /** The latest approved version before `version`: the one real calls ran before this change. */
  private async previousApproved(tenantId: string, scriptId: string, version: number): Promise<number> {
    const versions = await this.repos.scripts.listVersions(tenantId, scriptId);
    const previous = versions.find((v) => v.status === 'approved' && v.version < version);
    if (!previous) {
      throw new DomainError('no approved version before this one to compare with', 422, [
        { field: 'against', reason: `no approved version before ${version}; name one` },
      ]);
    }
    return previous.version;
  }
}
