/**
 * The agent's own routes (`/agents/me/…`, role `agent`: an API key written `agent@<agentId>`): its profile and state
 * (上班 / 小休 / 继续工作 / 下班 for itself only), the call offered to or connected with it (screen pop), a server-sent
 * event stream of its state, offers and queue lengths, the calls it was offered and handled, their dialogs, and a
 * wrap-up note per handled call. Every route acts on the key's own agent (ownAgentId), so there is no route here
 * through which an agent reaches another agent. Of the supervisors' routes (`/agents/{id}/…`) only ChangeAgentState
 * admits an agent, for its own id (the same change as ChangeMyState; 403 for any other id); the others answer 403.
 *
 * **Registered before AgentsController** (api/app.module.ts), so `/agents/me/state` is this controller's and not
 * `/agents/:id/state` with id `me`.
 */
import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Sse } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { concatMap, from, interval, mergeMap, startWith, type Observable } from 'rxjs';
import { CurrentPrincipal, ownAgentId, Roles, type Principal } from '../auth/auth';
import { AgentDto, ChangeAgentStateDto } from './agent.dto';
import {
  MY_EVENT_DTOS,
  MyCallDialogDto,
  MyCallsDto,
  MyCallsQueryDto,
  MyOfferDto,
  MyStateDto,
  QueueLengthsDto,
  WrapUpDto,
  WrapUpViewDto,
  type MyEvent,
} from './agent-view.dto';
import { AgentViewService } from './agent-view.service';

/** How often the event stream reads the agent's state document (one exact-`_id` read). */
export const STATE_POLL_MS = 1_000;
/** Queue lengths are read every this many state polls (a Temporal query per skill group). */
const QUEUE_EVERY = 2;

const ATTEMPT_ID = { name: 'attemptId', description: 'The call (attempt) id', example: 'k3x9q2m7a1-0-1' };

@ApiTags('agent workbench')
@ApiBearerAuth()
@Controller('agents/me')
export class AgentViewController {
  constructor(private readonly view: AgentViewService) {}

  @Get()
  @Roles('agent')
  @ApiOperation({ operationId: 'GetMyAgent', summary: 'The caller’s own agent, with its current state' })
  @ApiOkResponse({ type: AgentDto })
  me(@CurrentPrincipal() p: Principal) {
    return this.view.me(p.tenantId, ownAgentId(p));
  }

  @Get('state')
  @Roles('agent')
  @ApiOperation({
    operationId: 'GetMyState',
    summary: 'The agent’s own state, with the after-call-work timer (话后处理) while in after-call work',
  })
  @ApiOkResponse({ type: MyStateDto })
  state(@CurrentPrincipal() p: Principal) {
    return this.view.state(p.tenantId, ownAgentId(p));
  }

  @Put('state')
  @Roles('agent')
  @ApiOperation({
    operationId: 'ChangeMyState',
    summary: 'The agent changes its own state: 上班 / 继续工作 (ONLINE), 小休 with a reason, 下班 (SIGNED_OUT)',
    description:
      'The rules of ChangeAgentState: refused (409) for a frozen agent or one without a skill group going online, ' +
      'a transition the state table does not allow, or while a call holds the agent.',
  })
  @ApiOkResponse({ type: MyStateDto })
  changeState(@CurrentPrincipal() p: Principal, @Body() dto: ChangeAgentStateDto) {
    return this.view.changeState(p.tenantId, ownAgentId(p), dto);
  }

  @Get('queues')
  @Roles('agent')
  @ApiOperation({
    operationId: 'ListMyQueues',
    summary: '排队:N — callers waiting in each of the agent’s skill groups (from the queue workflows)',
  })
  @ApiOkResponse({ type: QueueLengthsDto })
  queues(@CurrentPrincipal() p: Principal) {
    return this.view.queues(p.tenantId, ownAgentId(p));
  }

  @Get('offer')
  @Roles('agent')
  @ApiOperation({
    operationId: 'GetMyOffer',
    summary: '新的来电: the call offered to or connected with the agent now, or call: null',
    description:
      'Who is calling (the number in full: the agent talks to it), the task, the skill group and phase ' +
      '(offered = ringing, talking = bridged), the contact’s row (name, variables) and the robot’s dialog so far ' +
      '(source record = the stored dialog, history = the turns in the contact workflow’s history while it is live).',
  })
  @ApiOkResponse({ type: MyOfferDto })
  offer(@CurrentPrincipal() p: Principal) {
    return this.view.offer(p.tenantId, ownAgentId(p));
  }

  @Sse('events')
  @Roles('agent')
  @ApiProduces('text/event-stream')
  @ApiExtraModels(...MY_EVENT_DTOS)
  @ApiOkResponse({
    description:
      'A stream of server-sent events; each is an `id:` line, an `event:` line (state, offer, queue or problem) and ' +
      'a `data:` line with the JSON body shown here under `data`.',
    content: {
      'text/event-stream': {
        schema: {
          oneOf: MY_EVENT_DTOS.map((dto) => ({ $ref: getSchemaPath(dto) })),
          discriminator: { propertyName: 'event' },
        },
      },
    },
  })
  @ApiOperation({
    operationId: 'StreamMyEvents',
    summary: 'Server-sent events: the agent’s state (state), offers (offer) and queue lengths (queue) as they change',
    description:
      `The server reads the agent's state document every ${STATE_POLL_MS} ms and its skill groups' queues every ` +
      `${STATE_POLL_MS * QUEUE_EVERY} ms, and sends an event only when something changed (the first of each at ` +
      'once). `state` carries GetMyState’s body, `offer` GetMyOffer’s, `queue` ListMyQueues’s; `problem` reports a ' +
      'read that failed (the stream goes on).',
  })
  events(@CurrentPrincipal() p: Principal): Observable<MyEvent> {
    const agentId = ownAgentId(p);
    let lastState = '';
    let lastCall: string | null | undefined;
    let lastQueues = '';
    return interval(STATE_POLL_MS).pipe(
      startWith(-1),
      // One tick at a time: a slow read delays the next poll instead of piling up.
      concatMap(async (tick): Promise<MyEvent[]> => {
        const out: MyEvent[] = [];
        try {
          const state = await this.view.state(p.tenantId, agentId);
          const { afterCallWork, ...rest } = state;
          const key = JSON.stringify({ ...rest, acw: afterCallWork && { ...afterCallWork, elapsedSeconds: 0 } });
          if (key !== lastState) {
            lastState = key;
            out.push({ type: 'state', data: state });
          }
          const callId = state.reservation?.callId ?? null;
          if (callId !== lastCall) {
            lastCall = callId;
            out.push({ type: 'offer', data: await this.view.offer(p.tenantId, agentId) });
          }
          if ((tick + 1) % QUEUE_EVERY === 0) {
            const queues = await this.view.queues(p.tenantId, agentId);
            const qk = JSON.stringify(queues);
            if (qk !== lastQueues) {
              lastQueues = qk;
              out.push({ type: 'queue', data: queues });
            }
          }
        } catch (err) {
          out.push({ type: 'problem', data: { detail: err instanceof Error ? err.message : String(err) } });
        }
        return out;
      }),
      mergeMap((events) => from(events)),
    );
  }

  @Get('calls')
  @Roles('agent')
  @ApiOperation({
    operationId: 'ListMyCalls',
    summary: 'The calls offered to (missed) and handled by the agent in the last days, newest first, with wrap-ups',
    description:
      'From the agent’s state history (the queue writes each call that ends with the agent there) and its current ' +
      'reservation; numbers masked. At most 200 calls.',
  })
  @ApiOkResponse({ type: MyCallsDto })
  calls(@CurrentPrincipal() p: Principal, @Query() q: MyCallsQueryDto) {
    return this.view.calls(p.tenantId, ownAgentId(p), q.days ?? 7);
  }

  @Get('calls/:attemptId/dialog')
  @Roles('agent')
  @ApiParam(ATTEMPT_ID)
  @ApiOperation({
    operationId: 'GetMyCallDialog',
    summary: 'The dialog of one of the agent’s own calls (404 for any other call)',
  })
  @ApiOkResponse({ type: MyCallDialogDto })
  dialog(@CurrentPrincipal() p: Principal, @Param('attemptId') attemptId: string) {
    return this.view.callDialog(p.tenantId, ownAgentId(p), attemptId);
  }

  @Post('calls/:attemptId/wrap-up')
  @HttpCode(200)
  @Roles('agent')
  @ApiParam(ATTEMPT_ID)
  @ApiOperation({
    operationId: 'WrapUpMyCall',
    summary: '服务小记: resolved (解决) or followUp (待跟进) with a remark, for a call the agent handled',
    description: 'Stored by the call’s id; posting again replaces the note. 404 for a call the agent did not handle.',
  })
  @ApiOkResponse({ type: WrapUpViewDto })
  wrapUp(@CurrentPrincipal() p: Principal, @Param('attemptId') attemptId: string, @Body() dto: WrapUpDto) {
    return this.view.wrapUp(p.tenantId, ownAgentId(p), attemptId, dto);
  }
}
