/**
 * ListDialog (seed §4: 查询对话记录): the turns of one answered call with a robot script, as the call's workflow
 * recorded them — node, what the callee said or pressed, the branch or knowledge entry and intent it matched, what
 * the robot said, the next node, tags — with UTC times.
 */
import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Repositories } from '../../activities/mongo/connection';
import { NotFound } from '../../src/errors';
import { CurrentPrincipal, Roles, type Principal } from '../auth/auth';
import { REPOSITORIES } from '../common/tokens';
import { DialogDto } from './dialog.dto';

@ApiTags('calls')
@ApiBearerAuth()
@Controller('tasks/:taskId/calls')
export class DialogController {
  constructor(@Inject(REPOSITORIES) private readonly repos: Repositories) {}

  @Get(':attemptId/dialog')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiParam({ name: 'attemptId', description: 'The call (attempt) id, as ListTaskDetail shows it' })
  @ApiOperation({
    operationId: 'ListDialog',
    summary: '查询对话记录: the dialog turns of one call, in order',
  })
  @ApiOkResponse({
    type: DialogDto,
    description: 'The call’s dialog: script version, tags, how it ended, and every turn',
  })
  async dialog(
    @CurrentPrincipal() p: Principal,
    @Param('taskId') taskId: string,
    @Param('attemptId') attemptId: string,
  ) {
    const doc = await this.repos.dialogs.get(p.tenantId, attemptId);
    if (!doc || doc.taskId !== taskId) throw new NotFound(`the dialog record of call ${attemptId} in task ${taskId}`);
    return {
      attemptId: doc._id,
      taskId: doc.taskId,
      contactIndex: doc.contactIndex,
      attempt: doc.attempt,
      script: doc.script,
      tags: doc.tags,
      end: doc.end,
      turns: doc.turns.map(({ atMs, ...turn }) => ({ at: new Date(atMs).toISOString(), ...turn })),
    };
  }
}
