/** Agents' phones pushed to Asterisk's dynamic PJSIP configuration (activities/agents/agent-phones.ts). */
import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '../../config/config';
import type { Logger } from '../../activities/logger';
import { pushAgentPhone, removeAgentPhone, type AgentPhone } from '../../activities/agents/agent-phones';
import { AsteriskDynamicConfig } from '../common/asterisk-dynamic-config';
import { CONFIG, LOGGER } from '../common/tokens';

@Injectable()
export class AsteriskAgentsService extends AsteriskDynamicConfig {
  constructor(@Inject(CONFIG) config: Config, @Inject(LOGGER) logger: Logger) {
    super(config.ari, logger, "the agent phone's");
  }

  /** Create or update the agent's endpoint and aor. */
  async push(phone: AgentPhone, what: string): Promise<void> {
    await this.apply(what, (client) => pushAgentPhone(client, phone));
  }

  async remove(agentId: string, what: string): Promise<void> {
    await this.apply(what, (client) => removeAgentPhone(client, agentId));
  }
}
