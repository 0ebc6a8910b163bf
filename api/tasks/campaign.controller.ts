/** Supervisor routes of a task's campaign: StartTask, StopTask, CancelTask (seed-spec §4). */
import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
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
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { CurrentPrincipal, Roles, type Principal } from '../auth/auth';
import { CampaignService } from './campaign.service';
import { AvailableSeatsDto, ForecastDto, TaskViewDto } from './task-view.dto';

export class SetSeatsDto {
  @ApiProperty({ minimum: 1, maximum: 1000, example: 5, description: 'AI seats: the task’s concurrency' })
  @IsInt()
  @Min(1)
  @Max(1000)
  aiSeats!: number;
}

export class ForecastQueryDto {
  @ApiPropertyOptional({
    minimum: 0.01,
    maximum: 1,
    example: 0.4,
    description: 'Answer rate; default: measured or 0.4',
  })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0.01)
  @Max(1)
  answerRate?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 1800,
    example: 45,
    description: 'Average talk seconds of an answered call',
  })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(1)
  @Max(1800)
  talkSeconds?: number;
}

@ApiTags('tasks')
@ApiBearerAuth()
@Controller('tasks')
export class CampaignController {
  constructor(private readonly campaigns: CampaignService) {}

  @Get('seats/available')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiOperation({
    operationId: 'GetAvailableSeats',
    summary: 'AI seats of the tenant’s pool not held by its running or paused tasks (当前可用AI坐席数)',
  })
  @ApiOkResponse({ type: AvailableSeatsDto })
  async available(@CurrentPrincipal() p: Principal) {
    return { available: await this.campaigns.availableSeats(p.tenantId) };
  }

  @Get(':taskId/forecast')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'taskId' })
  @ApiOperation({
    operationId: 'ForecastTask',
    summary: 'Estimate when the task finishes, from what is left, its seats, calendar, retries and a call profile',
  })
  @ApiOkResponse({ type: ForecastDto })
  forecast(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string, @Query() q: ForecastQueryDto) {
    return this.campaigns.forecast(p.tenantId, taskId, q);
  }

  @Put(':taskId/seats')
  @Roles('manager', 'supervisor')
  @ApiParam({ name: 'taskId' })
  @ApiOperation({
    operationId: 'ModifyTaskSeats',
    summary: 'Change a running or paused task’s AI seats; takes effect at the campaign’s next seat decision',
  })
  @ApiOkResponse({ type: TaskViewDto })
  setSeats(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string, @Body() body: SetSeatsDto) {
    return this.campaigns.setSeats(p.tenantId, taskId, body.aiSeats);
  }

  @Post(':taskId/start')
  @HttpCode(200)
  @Roles('manager', 'supervisor')
  @ApiParam({ name: 'taskId' })
  @ApiOperation({ operationId: 'StartTask', summary: 'Start a task, or resume a paused one' })
  @ApiOkResponse({ type: TaskViewDto })
  start(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string) {
    return this.campaigns.start(p.tenantId, taskId);
  }

  @Post(':taskId/stop')
  @HttpCode(200)
  @Roles('manager', 'supervisor')
  @ApiParam({ name: 'taskId' })
  @ApiOperation({ operationId: 'StopTask', summary: 'Pause: no new calls; calls in progress finish' })
  @ApiOkResponse({ type: TaskViewDto })
  stop(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string) {
    return this.campaigns.stop(p.tenantId, taskId);
  }

  @Post(':taskId/cancel')
  @HttpCode(200)
  @Roles('manager', 'supervisor')
  @ApiParam({ name: 'taskId' })
  @ApiOperation({ operationId: 'CancelTask', summary: 'Cancel: the task ends; undialled contacts are never called' })
  @ApiOkResponse({ type: TaskViewDto })
  cancel(@CurrentPrincipal() p: Principal, @Param('taskId') taskId: string) {
    return this.campaigns.cancel(p.tenantId, taskId);
  }
}
