/** Lines pushed to Asterisk's dynamic PJSIP configuration (activities/telephony/pjsip-lines.ts). */
import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '../../config/config';
import type { Logger } from '../../activities/logger';
import { pushLine, removeLine, type PjsipLine } from '../../activities/telephony/pjsip-lines';
import { AsteriskDynamicConfig } from '../common/asterisk-dynamic-config';
import { CONFIG, LOGGER } from '../common/tokens';

@Injectable()
export class AsteriskLinesService extends AsteriskDynamicConfig {
  constructor(@Inject(CONFIG) config: Config, @Inject(LOGGER) logger: Logger) {
    super(config.ari, logger, "the line's");
  }

  /** Create or update the line's endpoint and aor. */
  async push(line: PjsipLine, what: string): Promise<void> {
    await this.apply(what, (client) => pushLine(client, line));
  }

  async remove(lineId: string, what: string): Promise<void> {
    await this.apply(what, (client) => removeLine(client, lineId));
  }
}
