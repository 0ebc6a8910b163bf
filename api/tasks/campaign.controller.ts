/** Supervisor routes of a task's campaign: StartTask, StopTask, CancelTask (seed-spec §4). */
import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '../auth/auth';
import { CampaignService } from './campaign.service';

@ApiTags('tasks')
@ApiBearerAuth()
@Controller('tasks')
export class CampaignController {
  constructor(private readonly campaigns: CampaignService) {}

  @Post(':taskId/start')
  @HttpCode(200)
  @Roles('manager', 'supervisor')
  @ApiParam({ name: 'taskId' })
  @ApiOperation({ operationId: 'StartTask', summary: 'Start a task, or resume a paused one' })
  start(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string) {
    return this.campaigns.start(p.tenantId, taskId);
  }

  @Post(':taskId/stop')
  @HttpCode(200)
  @Roles('manager', 'supervisor')
  @ApiParam({ name: 'taskId' })
  @ApiOperation({ operationId: 'StopTask', summary: 'Pause: no new calls; calls in progress finish' })
  stop(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string) {
    return this.campaigns.stop(p.tenantId, taskId);
  }

  @Post(':taskId/cancel')
  @HttpCode(200)
  @Roles('manager', 'supervisor')
  @ApiParam({ name: 'taskId' })
  @ApiOperation({ operationId: 'CancelTask', summary: 'Cancel: the task ends; undialled contacts are never called' })
  cancel(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string) {
    return this.campaigns.cancel(p.tenantId, taskId);
  }
}
