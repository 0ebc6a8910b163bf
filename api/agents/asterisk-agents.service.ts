/**
 * The API's access to Asterisk's dynamic PJSIP configuration, for the agents' phones (activities/agents/
 * agent-phones.ts). ari-client's REST side only, connected lazily on the first push (no websocket, no Stasis
 * application), so the API starts, and serves everything but phone changes, while Asterisk is down.
 */
import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { connect, type Client } from 'ari-client';
import type { Config } from '../../config/config';
import { quietly } from '../../activities/ari/ari-adapter';
import type { Logger } from '../../activities/logger';
import { pushAgentPhone, removeAgentPhone, type AgentPhone } from '../../activities/agents/agent-phones';
import { CONFIG, LOGGER } from '../common/tokens';

@Injectable()
export class AsteriskAgentsService {
  private client?: Promise<Client>;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private ari(): Promise<Client> {
    if (!this.client) {
      const { url, username, password } = this.config.ari;
      this.client = quietly(() => connect(url, username, password));
      // A failed connection is forgotten, so the next request tries again.
      this.client.catch(() => (this.client = undefined));
    }
    return this.client;
  }

  /** Create or update the agent's endpoint and aor; 503 when Asterisk cannot be reached or refuses. */
  async push(phone: AgentPhone, what: string): Promise<void> {
    await this.run(what, async () => pushAgentPhone(await this.ari(), phone));
  }

  async remove(agentId: string, what: string): Promise<void> {
    await this.run(what, async () => removeAgentPhone(await this.ari(), agentId));
  }

  private async run(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.logger.warn({ err }, `Asterisk dynamic configuration failed: ${what}`);
      throw new ServiceUnavailableException(
        `Asterisk did not take the agent phone's configuration (${what}); try again`,
      );
    }
  }
}
