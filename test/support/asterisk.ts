/**
 * Asterisk's own view, for assertions that must not trust our code: an ARI application of the test's own that
 * subscribes to every channel of the trunk endpoint and records each channel Asterisk creates on it.
 */
import { connect, type Client } from 'ari-client';
import { quietly } from '../../activities/ari/ari-adapter';

/** What Asterisk did on the trunk for the channels whose id starts with one prefix (one task's attempts). */
export interface TrunkScope {
  /** Channels created. */
  total: number;
  /** Channels up now. */
  active: number;
  /** Most channels up at once. */
  maxConcurrent: number;
}

export class TrunkObserver {
  private readonly events: { id: string; up: boolean }[] = [];
  private readonly created: string[] = [];
  /** Channel creation times, in order. */
  readonly createdAt: number[] = [];
  private readonly up = new Set<string>();
  /** Most channels on the trunk at once, as Asterisk reported them. */
  maxConcurrent = 0;

  private constructor(private readonly client: Client) {}

  static async start(
    ari: { url: string; username: string; password: string },
    app: string,
    endpoint = 'PJSIP/carrier',
  ): Promise<TrunkObserver> {
    const client = await quietly(() => connect(ari.url, ari.username, ari.password));
    const observer = new TrunkObserver(client);
    client.on('ChannelCreated', (event) => {
      observer.events.push({ id: event.channel.id, up: true });
      observer.created.push(event.channel.id);
      observer.createdAt.push(Date.now());
      observer.up.add(event.channel.id);
      observer.maxConcurrent = Math.max(observer.maxConcurrent, observer.up.size);
    });
    client.on('ChannelDestroyed', (event) => {
      observer.events.push({ id: event.channel.id, up: false });
      observer.up.delete(event.channel.id);
    });
    await client.start(app);
    await client.applications.subscribe({ applicationName: app, eventSource: `endpoint:${endpoint}` });
    return observer;
  }

  /**
   * Only the channels whose id starts with `prefix`: a task's attempt ids are `<taskId>-<contact>-<attempt>`, so
   * `${taskId}-` isolates one task from whatever else uses the same Asterisk at the same time.
   */
  scope(prefix: string): TrunkScope {
    const up = new Set<string>();
    let total = 0;
    let maxConcurrent = 0;
    for (const e of this.events) {
      if (!e.id.startsWith(prefix)) continue;
      if (e.up) {
        total++;
        up.add(e.id);
        maxConcurrent = Math.max(maxConcurrent, up.size);
      } else up.delete(e.id);
    }
    return { total, active: up.size, maxConcurrent };
  }

  /** Channels on the trunk now. */
  get active(): number {
    return this.up.size;
  }

  /** Channels created so far. */
  get total(): number {
    return this.created.length;
  }

  /** Reset the high-water mark (e.g. after a supervisor raised the seats). */
  resetMax(): void {
    this.maxConcurrent = this.up.size;
  }

  /** How many channels Asterisk created with this id (an attempt dialled twice would show 2). */
  channelsCreated(channelId: string): number {
    return this.created.filter((id) => id === channelId).length;
  }

  close(): void {
    this.client.stop();
  }
}
