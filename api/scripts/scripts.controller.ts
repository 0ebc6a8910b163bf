/**
 * Robot scripts (话术, seed-spec §1) as REST routes: CRUD of the draft, validation, review, versions, dubbing and
 * the text console.
 *
 * Roles: managers author (create, edit, dub, submit); supervisors review (approve, reject) — the seed's 小二审核 is
 * a reviewer other than the author, and supervisors are the enterprise-admin subset that oversees campaigns, so a
 * manager cannot approve their own script (admin, which implies every role, can do both); managers, supervisors and
 * auditors read; managers and supervisors use the console.
 */
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseIntPipe,
  Post,
  Put,
  Query,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '../auth/auth';
import { ConsoleService } from './console.service';
import { DubbingService, RECORDING_MAX_BYTES } from './dubbing.service';
import {
  ConsoleReplyDto,
  ConsoleSessionDto,
  ConsoleTurnDto,
  CreateScriptDto,
  DubbingListDto,
  DubbingRowDto,
  RejectScriptDto,
  ScriptDetailDto,
  ScriptPageDto,
  ScriptListQueryDto,
  ScriptVersionDto,
  StartConsoleDto,
  SynthesizeDubbingDto,
  UpdateScriptDraftDto,
  ValidateQueryDto,
  ValidateScriptDto,
  ValidationReportDto,
  VersionQueryDto,
} from './script.dto';
import { ScriptsService, versionView } from './scripts.service';

const ID = { name: 'id', description: 'Script id' };
const VERSION = { name: 'version', description: 'Version number' };

@ApiTags('scripts')
@ApiBearerAuth()
@Controller('scripts')
export class ScriptsController {
  constructor(
    private readonly scripts: ScriptsService,
    private readonly dubbing: DubbingService,
    private readonly consoles: ConsoleService,
  ) {}

  @Post()
  @Roles('manager')
  @ApiOperation({
    operationId: 'CreateScript',
    summary: 'Create a script (添加话术): version 1, a draft',
    description:
      'Basic information (name ≤ 30, industry, scene, remarks ≤ 50) and optionally the content; missing parts start ' +
      'from the presets. Structure problems refuse the save (422), each naming the node and the field; unfinished ' +
      'flows and content problems come back as warnings in `current.report`.',
  })
  @ApiCreatedResponse({ type: ScriptDetailDto })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateScriptDto) {
    return this.scripts.create(p.tenantId, dto);
  }

  @Get()
  @Roles('manager', 'supervisor', 'auditor')
  @ApiOperation({ operationId: 'ListScript', summary: 'The tenant’s scripts, most recently changed first' })
  @ApiOkResponse({ type: ScriptPageDto })
  list(@CurrentPrincipal() p: Principal, @Query() q: ScriptListQueryDto) {
    return this.scripts.list(p.tenantId, q);
  }

  @Get(':id')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam(ID)
  @ApiOperation({ operationId: 'GetScript', summary: 'A script with its draft (else its latest version)' })
  @ApiOkResponse({ type: ScriptDetailDto })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.scripts.detail(p.tenantId, id);
  }

  @Put(':id/draft')
  @Roles('manager')
  @ApiParam(ID)
  @ApiOperation({
    operationId: 'UpdateScriptDraft',
    summary: 'Save the draft (保存草稿)',
    description:
      'Changes the draft; when the latest version is submitted, approved or rejected, a new draft version is made ' +
      'from it (approved versions never change, so a task’s pinned version stays). Audio of utterances whose text ' +
      'is unchanged carries over.',
  })
  @ApiOkResponse({ type: ScriptDetailDto })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: UpdateScriptDraftDto) {
    return this.scripts.updateDraft(p.tenantId, id, dto);
  }

  @Post(':id/validate')
  @HttpCode(200)
  @Roles('manager', 'supervisor')
  @ApiParam(ID)
  @ApiOperation({
    operationId: 'ValidateScript',
    summary: 'Check a script without saving it',
    description:
      'The validation report of the body’s content, or of the draft (else the latest version): problems and ' +
      'warnings, each with its path, field, rule and the flow / node / intent / KB entry it belongs to, and which ' +
      'flows are 未完成. At stage=submit (default) everything blocking a submission, unvoiced utterances included.',
  })
  @ApiOkResponse({ type: ValidationReportDto })
  validate(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query() q: ValidateQueryDto,
    @Body() dto: ValidateScriptDto,
  ) {
    return this.scripts.validate(p.tenantId, id, q.stage ?? 'submit', dto.script);
  }

  @Post(':id/submit')
  @HttpCode(200)
  @Roles('manager')
  @ApiParam(ID)
  @ApiOperation({
    operationId: 'SubmitScript',
    summary: 'Submit the draft for review (提交审核)',
    description:
      'Refused (422) with every problem named — unfinished flows, bad references, forbidden content (§9), ' +
      'required utterances not voiced — or 409 when there is no draft.',
  })
  @ApiOkResponse({ type: ScriptVersionDto })
  submit(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.scripts.submit(p.tenantId, id);
  }

  @Post(':id/versions/:version/approve')
  @HttpCode(200)
  @Roles('supervisor')
  @ApiParam(ID)
  @ApiParam(VERSION)
  @ApiOperation({
    operationId: 'ApproveScript',
    summary: 'Approve a submitted version (审核通过); it becomes the latest approved version',
  })
  @ApiOkResponse({ type: ScriptVersionDto })
  approve(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('version', ParseIntPipe) v: number) {
    return this.scripts.review(p.tenantId, id, v, { approve: true });
  }

  @Post(':id/versions/:version/reject')
  @HttpCode(200)
  @Roles('supervisor')
  @ApiParam(ID)
  @ApiParam(VERSION)
  @ApiOperation({ operationId: 'RejectScript', summary: 'Reject a submitted version (驳回) with a reason' })
  @ApiOkResponse({ type: ScriptVersionDto })
  reject(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('version', ParseIntPipe) v: number,
    @Body() dto: RejectScriptDto,
  ) {
    return this.scripts.review(p.tenantId, id, v, { approve: false, reason: dto.reason });
  }

  @Get(':id/versions')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam(ID)
  @ApiOperation({ operationId: 'ListScriptVersions', summary: 'Version history (版本历史记录), newest first' })
  @ApiOkResponse({ type: [ScriptVersionDto] })
  versions(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.scripts.versions(p.tenantId, id);
  }

  @Get(':id/versions/:version')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam(ID)
  @ApiParam(VERSION)
  @ApiOperation({ operationId: 'GetScriptVersion', summary: 'One version: its script, status and dubbing' })
  @ApiOkResponse({ type: ScriptVersionDto })
  async version(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('version', ParseIntPipe) v: number) {
    return versionView(await this.scripts.version(p.tenantId, id, v));
  }

  // --- Dubbing (话术配音) ---

  @Get(':id/dubbing')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam(ID)
  @ApiOperation({
    operationId: 'ListScriptDubbing',
    summary: 'The dubbing list: every utterance with its status (已录音 / 未录音 / 无需录音 / 合成中)',
  })
  @ApiOkResponse({ type: DubbingListDto })
  dubbingList(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() q: VersionQueryDto) {
    return this.dubbing.list(p.tenantId, id, q.version);
  }

  @Post(':id/dubbing/tts')
  @HttpCode(200)
  @Roles('manager')
  @ApiParam(ID)
  @ApiOperation({
    operationId: 'SynthesizeScriptDubbing',
    summary: 'Speech synthesis (语音合成) of the draft’s utterances with espeak-ng',
    description:
      'Voice type, speed and volume; by default every utterance without variables that is not recorded (批量语音合成). ' +
      'The files are 8 kHz mono 16-bit WAV in Asterisk’s sounds directory.',
  })
  @ApiOkResponse({ type: DubbingListDto })
  synthesize(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: SynthesizeDubbingDto) {
    return this.dubbing.synthesize(p.tenantId, id, dto);
  }

  @Put(':id/dubbing/:utteranceId/recording')
  @Roles('manager')
  @ApiParam(ID)
  @ApiParam({ name: 'utteranceId' })
  @UseInterceptors(FileInterceptor('file', { limits: { fileSize: RECORDING_MAX_BYTES, files: 1 } }))
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: { file: { type: 'string', format: 'binary', description: 'wav or mp3, ≤ 20 MB' } },
    },
  })
  @ApiOperation({
    operationId: 'UploadScriptRecording',
    summary: 'Upload a recording (单个录音文件上传) for an utterance without variables',
    description: 'wav or mp3, converted for Asterisk to 8 kHz mono 16-bit WAV.',
  })
  @ApiOkResponse({ type: DubbingRowDto })
  upload(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('utteranceId') utteranceId: string,
    @UploadedFile() file?: { buffer: Buffer },
  ) {
    return this.dubbing.upload(p.tenantId, id, utteranceId, file?.buffer);
  }

  // --- Text console ---

  @Post(':id/console-sessions')
  @Roles('manager', 'supervisor')
  @ApiParam(ID)
  @ApiOperation({
    operationId: 'StartScriptConsole',
    summary: 'Start a text-console conversation with a script version (a draft is allowed)',
  })
  @ApiCreatedResponse({ type: ConsoleReplyDto })
  startConsole(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: StartConsoleDto) {
    return this.consoles.start(p.tenantId, id, dto);
  }

  @Post('console-sessions/:sessionId/turns')
  @HttpCode(200)
  @Roles('manager', 'supervisor')
  @ApiParam({ name: 'sessionId' })
  @ApiOperation({
    operationId: 'SendConsoleTurn',
    summary: 'Say something, press a key, stay silent, barge in, hang up or wait; the robot’s reply',
  })
  @ApiOkResponse({ type: ConsoleReplyDto })
  sendTurn(@CurrentPrincipal() p: Principal, @Param('sessionId') sessionId: string, @Body() dto: ConsoleTurnDto) {
    return this.consoles.send(p.tenantId, sessionId, dto);
  }

  @Get('console-sessions/:sessionId')
  @Roles('manager', 'supervisor')
  @ApiParam({ name: 'sessionId' })
  @ApiOperation({ operationId: 'GetConsoleSession', summary: 'A console conversation’s transcript and turns' })
  @ApiOkResponse({ type: ConsoleSessionDto })
  getConsole(@CurrentPrincipal() p: Principal, @Param('sessionId') sessionId: string) {
    return this.consoles.get(p.tenantId, sessionId);
  }
}
