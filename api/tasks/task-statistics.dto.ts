/** GetTaskStatistics' answer for the OpenAPI document: seed §3.1's statistics plus transfers to agents. */
import { ApiProperty } from '@nestjs/swagger';
import { TaskStatisticsDto } from '../lists/list.dto';

export class TaskStatisticsViewDto extends TaskStatisticsDto {
  @ApiProperty({
    example: 6,
    description: '转人工: answered calls handed to the agents’ queue (a transfer was attempted, whatever its end)',
  })
  transferred!: number;
  @ApiProperty({ example: 5, description: 'Transferred calls an agent took (connected to an agent)' })
  transferConnected!: number;
  @ApiProperty({
    example: 0.2,
    description: '转人工率: transferred ÷ answered calls (attempts with result 呼叫成功), 0–1; 0 before any answer',
  })
  transferRate!: number;
  @ApiProperty({
    example: 0.8333,
    description: 'transferConnected ÷ transferred, 0–1; 0 before any transfer',
  })
  transferConnectRate!: number;
}
