/**
 * The API's access to Asterisk's dynamic PJSIP configuration (lines, agents' phones): ari-client's REST side only,
 * connected lazily on the first change — no websocket, no Stasis application — so the API starts, and serves
 * everything but those changes, while Asterisk is down. A change Asterisk does not take is a 503.
 */
import { ServiceUnavailableException } from '@nestjs/common';
import { connect, type Client } from 'ari-client';
import type { Config } from '../../config/config';
import { quietly } from '../../activities/ari/ari-adapter';
import type { Logger } from '../../activities/logger';

export abstract class AsteriskDynamicConfig {
  private client?: Promise<Client>;

  protected constructor(
    private readonly ariConfig: Config['ari'],
    private readonly log: Logger,
    /** What the configuration is of, for the error message ("the line's", "the agent phone's"). */
    private readonly subject: string,
  ) {}

  private ari(): Promise<Client> {
    if (!this.client) {
      const { url, username, password } = this.ariConfig;
      this.client = quietly(() => connect(url, username, password));
      // A failed connection is forgotten, so the next request tries again.
      this.client.catch(() => (this.client = undefined));
    }
    return this.client;
  }

  /** Apply one change through ARI; 503 when Asterisk cannot be reached or refuses. */
  protected async apply(what: string, change: (client: Client) => Promise<void>): Promise<void> {
    try {
      await change(await this.ari());
    } catch (err) {
      this.log.warn({ err }, `Asterisk dynamic configuration failed: ${what}`);
      throw new ServiceUnavailableException(`Asterisk did not take ${this.subject} configuration (${what}); try again`);
    }
  }
}
