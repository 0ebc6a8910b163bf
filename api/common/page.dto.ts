/** What every paged list answers besides its items (page numbers are 1-based). */
import { ApiProperty } from '@nestjs/swagger';

export class PageMetaDto {
  @ApiProperty({ example: 1 })
  page!: number;
  @ApiProperty({ example: 20 })
  pageSize!: number;
  @ApiProperty({ example: 42, description: 'Items in all pages' })
  total!: number;
}
