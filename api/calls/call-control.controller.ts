/**
 * In-call controls (seed §5.3: 保持 / 转接 / 挂断) of a transferred call while a person has it, in two shapes:
 * - the agent's own call: `/agents/me/call/…` (role `agent`; the call its key's agent is connected with, never an id
 *   from the request);
 * - any call of the tenant for supervisors: `/calls/{attemptId}/…` (404 for another tenant's call).
 * Both answer with the call's control state (phase, who has the call, the hand-overs so far). Commands are carried
 * out by the call's workflow (api/calls/call-control.service.ts); a command that does not fit the call now (not
 * connected, already on hold, a transfer in progress, an agent who is not online) is a 409 naming the reason.
 */
import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, ownAgentId, Roles, seesFullNumbers, type Principal } from '../auth/auth';
import { CallControlViewDto, TransferCallDto } from './call-control.dto';
import { CallControlService, type Commander, type SimpleCommand } from './call-control.service';

const ATTEMPT_ID = { name: 'attemptId', description: 'The call (attempt) id', example: 'k3x9q2m7a1-0-1' };

const SUMMARIES: Record<SimpleCommand, string> = {
  hold: '保持: the callee hears music on hold; the agent’s leg stays up and hears nothing',
  resume: 'Back from hold: the callee is bridged with the agent again',
  hangup: '挂断: end the call (the system hangs the callee up; the call record says hangupBy AGENT)',
};
const TRANSFER_SUMMARY =
  '转接: to another agent (online and idle), a skill group’s queue, or an external number (E.164); the current ' +
  'agent’s leg ends and that agent goes to after-call work';
const TRANSFER_DESCRIPTION =
  'Give exactly one of agentId, skillGroupId, number. The answer comes once the current party’s leg has ended ' +
  '(phase transferring): the target is then rung (an agent, or the external number through the trunk) or the call ' +
  'waits in the group’s queue; a target that does not answer sends the call back to the current skill group’s queue.';

const supervisor = (p: Principal): Commander => ({
  kind: 'supervisor',
  role: p.roles.includes('admin') ? 'admin' : 'supervisor',
  fullNumbers: seesFullNumbers(p),
});

@ApiTags('agent workbench')
@ApiBearerAuth()
@Controller('agents/me/call')
export class MyCallControlController {
  constructor(private readonly controls: CallControlService) {}

  private async mine(p: Principal): Promise<{ attemptId: string; who: Commander }> {
    const agentId = ownAgentId(p);
    return { attemptId: await this.controls.agentCall(p.tenantId, agentId), who: { kind: 'agent', agentId } };
  }

  @Get()
  @Roles('agent')
  @ApiOperation({ operationId: 'GetMyCallControl', summary: 'The control state of the agent’s own connected call' })
  @ApiOkResponse({ type: CallControlViewDto })
  async state(@CurrentPrincipal() p: Principal) {
    const { attemptId, who } = await this.mine(p);
    return this.controls.state(p.tenantId, attemptId, who);
  }

  @Post('hold')
  @HttpCode(200)
  @Roles('agent')
  @ApiOperation({ operationId: 'HoldMyCall', summary: SUMMARIES.hold })
  @ApiOkResponse({ type: CallControlViewDto })
  async hold(@CurrentPrincipal() p: Principal) {
    const { attemptId, who } = await this.mine(p);
    return this.controls.simple(p.tenantId, attemptId, 'hold', who);
  }

  @Post('resume')
  @HttpCode(200)
  @Roles('agent')
  @ApiOperation({ operationId: 'ResumeMyCall', summary: SUMMARIES.resume })
  @ApiOkResponse({ type: CallControlViewDto })
  async resume(@CurrentPrincipal() p: Principal) {
    const { attemptId, who } = await this.mine(p);
    return this.controls.simple(p.tenantId, attemptId, 'resume', who);
  }

  @Post('hangup')
  @HttpCode(200)
  @Roles('agent')
  @ApiOperation({ operationId: 'HangUpMyCall', summary: SUMMARIES.hangup })
  @ApiOkResponse({ type: CallControlViewDto })
  async hangup(@CurrentPrincipal() p: Principal) {
    const { attemptId, who } = await this.mine(p);
    return this.controls.simple(p.tenantId, attemptId, 'hangup', who);
  }

  @Post('transfer')
  @HttpCode(200)
  @Roles('agent')
  @ApiOperation({ operationId: 'TransferMyCall', summary: TRANSFER_SUMMARY, description: TRANSFER_DESCRIPTION })
  @ApiBody({ type: TransferCallDto })
  @ApiOkResponse({ type: CallControlViewDto })
  async transfer(@CurrentPrincipal() p: Principal, @Body() dto: TransferCallDto) {
    const { attemptId, who } = await this.mine(p);
    return this.controls.transfer(p.tenantId, attemptId, dto, who);
  }
}

@ApiTags('calls')
@ApiBearerAuth()
@Controller('calls/:attemptId')
export class CallControlController {
  constructor(private readonly controls: CallControlService) {}

  @Get('control')
  @Roles('supervisor')
  @ApiParam(ATTEMPT_ID)
  @ApiOperation({ operationId: 'GetCallControl', summary: 'The control state of a connected call of the tenant' })
  @ApiOkResponse({ type: CallControlViewDto })
  state(@CurrentPrincipal() p: Principal, @Param('attemptId') attemptId: string) {
    return this.controls.state(p.tenantId, attemptId, supervisor(p));
  }

  @Post('hold')
  @HttpCode(200)
  @Roles('supervisor')
  @ApiParam(ATTEMPT_ID)
  @ApiOperation({ operationId: 'HoldCall', summary: SUMMARIES.hold })
  @ApiOkResponse({ type: CallControlViewDto })
  hold(@CurrentPrincipal() p: Principal, @Param('attemptId') attemptId: string) {
    return this.controls.simple(p.tenantId, attemptId, 'hold', supervisor(p));
  }

  @Post('resume')
  @HttpCode(200)
  @Roles('supervisor')
  @ApiParam(ATTEMPT_ID)
  @ApiOperation({ operationId: 'ResumeCall', summary: SUMMARIES.resume })
  @ApiOkResponse({ type: CallControlViewDto })
  resume(@CurrentPrincipal() p: Principal, @Param('attemptId') attemptId: string) {
    return this.controls.simple(p.tenantId, attemptId, 'resume', supervisor(p));
  }

  @Post('hangup')
  @HttpCode(200)
  @Roles('supervisor')
  @ApiParam(ATTEMPT_ID)
  @ApiOperation({ operationId: 'HangUpCall', summary: SUMMARIES.hangup })
  @ApiOkResponse({ type: CallControlViewDto })
  hangup(@CurrentPrincipal() p: Principal, @Param('attemptId') attemptId: string) {
    return this.controls.simple(p.tenantId, attemptId, 'hangup', supervisor(p));
  }

  @Post('transfer')
  @HttpCode(200)
  @Roles('supervisor')
  @ApiParam(ATTEMPT_ID)
  @ApiOperation({ operationId: 'TransferCall', summary: TRANSFER_SUMMARY, description: TRANSFER_DESCRIPTION })
  @ApiBody({ type: TransferCallDto })
  @ApiOkResponse({ type: CallControlViewDto })
  transfer(@CurrentPrincipal() p: Principal, @Param('attemptId') attemptId: string, @Body() dto: TransferCallDto) {
    return this.controls.transfer(p.tenantId, attemptId, dto, supervisor(p));
  }
}

/** Registered in AppModule (controllers before the `/agents/:id/…` ones, like the agent's own view). */
export const CALL_CONTROL_CONTROLLERS = [MyCallControlController, CallControlController];
export const CALL_CONTROL_PROVIDERS = [CallControlService];
