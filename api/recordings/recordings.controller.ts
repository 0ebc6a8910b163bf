/** DownloadRecording (seed: 下载录音): GET /calls/{attemptId}/recording → the call's recording as audio/wav. */
import { Controller, Get, Param, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '../auth/auth';
import { RecordingsService } from './recordings.service';

@ApiTags('calls')
@ApiBearerAuth()
@Controller('calls')
export class RecordingsController {
  constructor(private readonly recordings: RecordingsService) {}

  @Get(':attemptId/recording')
  @Roles('manager', 'supervisor', 'auditor')
  @ApiParam({ name: 'attemptId', description: 'the call attempt (ListTaskDetail: attemptId)', example: 't_x-0-1' })
  @ApiProduces('audio/wav')
  @ApiOkResponse({
    description: 'Both directions of the answered call, 8 kHz 16-bit mono WAV',
    content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } } },
  })
  @ApiOperation({
    operationId: 'DownloadRecording',
    summary: 'Download a call’s recording (下载录音)',
    description:
      'Every answered call is recorded. 404 if the tenant has no such call or it has no recording; 410 once the ' +
      'recording was deleted after RECORDING_RETENTION_DAYS.',
  })
  async download(@CurrentPrincipal() p: Principal, @Param('attemptId') attemptId: string): Promise<StreamableFile> {
    const file = await this.recordings.open(p.tenantId, attemptId);
    return new StreamableFile(file.stream, {
      type: 'audio/wav',
      disposition: `attachment; filename="${file.name.replace(/[^\x20-\x7e]/g, '_').replace(/"/g, '')}"`,
      ...(file.length ? { length: file.length } : {}),
    });
  }
}
