/**
 * Asterisk's own view, for assertions that must not trust our code: an ARI application of the test's own that
 * subscribes to every channel of the trunk endpoint and records each channel Asterisk creates on it.
 */
import { connect, type Client } from 'ari-client';

export class TrunkObserver {
  private readonly created: string[] = [];

  private constructor(private readonly client: Client) {}

  static async start(
    ari: { url: string; username: string; password: string },
    app: string,
    endpoint = 'PJSIP/carrier',
  ): Promise<TrunkObserver> {
    const client = await connect(ari.url, ari.username, ari.password);
    const observer = new TrunkObserver(client);
    client.on('ChannelCreated', (event) => observer.created.push(event.channel.id));
    await client.start(app);
    await client.applications.subscribe({ applicationName: app, eventSource: `endpoint:${endpoint}` });
    return observer;
  }

  /** How many channels Asterisk created with this id (an attempt dialled twice would show 2). */
  channelsCreated(channelId: string): number {
    return this.created.filter((id) => id === channelId).length;
  }

  close(): void {
    this.client.stop();
  }
}
