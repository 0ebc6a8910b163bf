/** The tenant's do-not-call list: AddDoNotCall (JSON or CSV/xlsx upload), ListDoNotCall, CheckDoNotCall, RemoveDoNotCall. */
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { CurrentPrincipal, Roles, seesFullNumbers, type Principal } from '../auth/auth';
import { validateInto } from '../common/validation';
import { ListQueryDto } from '../tasks/task.dto';
import { DncService } from './dnc.service';
import { DncAddDto, DncAddResultDto, DncCheckDto, DncPageDto } from './list.dto';
import type { UploadedList } from './list-reader';
import { ListUploadInterceptor } from './upload.interceptor';

@ApiTags('do-not-call')
@ApiBearerAuth()
@ApiExtraModels(DncAddDto)
@Controller('dnc')
export class DncController {
  constructor(private readonly dnc: DncService) {}

  @Post()
  @HttpCode(200)
  @Roles('manager')
  @UseInterceptors(ListUploadInterceptor)
  @ApiOperation({
    operationId: 'AddDoNotCall',
    summary: 'Add numbers to the tenant’s do-not-call list (JSON, or a CSV/xlsx upload with a phone column)',
    description:
      'All or nothing: a bad number rejects the request, naming its row and column. Numbers already listed are ' +
      'kept as they are. Listed numbers are flagged at import and never dialled (the dial step checks again).',
  })
  @ApiConsumes('application/json', 'multipart/form-data')
  @ApiBody({
    schema: {
      oneOf: [
        { $ref: getSchemaPath(DncAddDto) },
        { type: 'object', properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] },
      ],
    },
  })
  @ApiOkResponse({ type: DncAddResultDto })
  add(@CurrentPrincipal() p: Principal, @Body() body: unknown, @UploadedFile() file?: UploadedList) {
    if (file) return this.dnc.addFile(p.tenantId, file);
    return this.dnc.addEntries(p.tenantId, validateInto(DncAddDto, body ?? {}, 'body').entries);
  }

  @Get()
  @Roles('manager', 'supervisor', 'auditor')
  @ApiOperation({
    operationId: 'ListDoNotCall',
    summary: 'The tenant’s do-not-call list (auditors see masked numbers)',
  })
  @ApiOkResponse({ type: DncPageDto })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListQueryDto) {
    return this.dnc.list(p.tenantId, q.page ?? 1, q.pageSize ?? 20, seesFullNumbers(p));
  }

  @Get(':phone')
  @Roles('manager', 'supervisor')
  @ApiParam({ name: 'phone', example: '13800138000' })
  @ApiOperation({ operationId: 'CheckDoNotCall', summary: 'Is this number on the do-not-call list?' })
  @ApiOkResponse({ type: DncCheckDto })
  check(@CurrentPrincipal() p: Principal, @Param('phone') phone: string) {
    return this.dnc.check(p.tenantId, phone);
  }

  @Delete(':phone')
  @HttpCode(204)
  @Roles('manager')
  @ApiParam({ name: 'phone', example: '13800138000' })
  @ApiOperation({ operationId: 'RemoveDoNotCall', summary: 'Take a number off the do-not-call list' })
  async remove(@CurrentPrincipal() p: Principal, @Param('phone') phone: string): Promise<void> {
    await this.dnc.remove(p.tenantId, phone);
  }
}
