/**
 * The API's Prometheus metrics (issue #9), collected when `/metrics` is scraped:
 *
 * - per running campaign (found through Temporal visibility, `WorkflowType = 'campaignWorkflow'` and running),
 *   its `progress` query: `waihu_task_seats{tenant,task}` (AI seats), `waihu_task_seats_in_use` (contacts holding a
 *   seat: dialling or in a call), `waihu_task_waiting_for_seat` (the seat queue: contacts whose window is open,
 *   waiting for a seat), `waihu_task_contacts_live`, `waihu_task_results{result}` (contacts finished by result);
 * - per tenant: `waihu_tenant_seats_in_use`, `waihu_tenant_waiting_for_seat`;
 * - `waihu_campaigns_running`, `waihu_metrics_collect_seconds`, and the API process's own Node metrics
 *   (`waihu_api_*`).
 *
 * The numbers come from the campaigns themselves (the seat is counted where it is decided), never from counting a
 * big collection. A query a campaign does not answer within QUERY_TIMEOUT_MS is skipped (counted in
 * `waihu_metrics_query_failures_total`), so a scrape never hangs on a stuck worker.
 */
import type { Client } from '@temporalio/client';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { progressQuery, type CampaignProgress } from '../../workflows/definitions';
import { WAIHU_TENANT } from '../../workflows/search-attributes';

const QUERY_TIMEOUT_MS = 2_000;
/** Campaigns queried per scrape (the rest are left out and counted). */
const MAX_CAMPAIGNS = 500;
const PARALLEL = 16;

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly taskSeats: Gauge;
  private readonly taskInUse: Gauge;
  private readonly taskWaiting: Gauge;
  private readonly taskLive: Gauge;
  private readonly taskResults: Gauge;
  private readonly tenantInUse: Gauge;
  private readonly tenantWaiting: Gauge;
  private readonly running: Gauge;
  private readonly collectSeconds: Gauge;
  private readonly failures: Counter;

  constructor(private readonly temporal: Client) {
    const r = [this.registry];
    const taskLabels = ['tenant', 'task'] as const;
    this.taskSeats = new Gauge({
      name: 'waihu_task_seats',
      help: 'AI seats of a running task',
      labelNames: taskLabels,
      registers: r,
    });
    this.taskInUse = new Gauge({
      name: 'waihu_task_seats_in_use',
      help: 'Contacts of a task holding an AI seat (dialling or in a call)',
      labelNames: taskLabels,
      registers: r,
    });
    this.taskWaiting = new Gauge({
      name: 'waihu_task_waiting_for_seat',
      help: 'Contacts of a task whose window is open, queued for an AI seat',
      labelNames: taskLabels,
      registers: r,
    });
    this.taskLive = new Gauge({
      name: 'waihu_task_contacts_live',
      help: 'Contacts of a task admitted and not finished (waiting, queued or in a call)',
      labelNames: taskLabels,
      registers: r,
    });
    this.taskResults = new Gauge({
      name: 'waihu_task_results',
      help: 'Contacts of a running task finished, by final call result code',
      labelNames: ['tenant', 'task', 'result'],
      registers: r,
    });
    this.tenantInUse = new Gauge({
      name: 'waihu_tenant_seats_in_use',
      help: 'AI seats in use across a tenant’s running tasks',
      labelNames: ['tenant'],
      registers: r,
    });
    this.tenantWaiting = new Gauge({
      name: 'waihu_tenant_waiting_for_seat',
      help: 'Contacts queued for an AI seat across a tenant’s running tasks',
      labelNames: ['tenant'],
      registers: r,
    });
    this.running = new Gauge({ name: 'waihu_campaigns_running', help: 'Campaign workflows running', registers: r });
    this.collectSeconds = new Gauge({
      name: 'waihu_metrics_collect_seconds',
      help: 'Time the last scrape spent querying campaigns',
      registers: r,
    });
    this.failures = new Counter({
      name: 'waihu_metrics_query_failures_total',
      help: 'Campaign progress queries that failed or timed out during scrapes',
      registers: r,
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'waihu_api_' });
  }

  /** Query the running campaigns and render every metric as Prometheus text. */
  async render(): Promise<string> {
    const t0 = Date.now();
    await this.collect();
    this.collectSeconds.set((Date.now() - t0) / 1000);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private async collect(): Promise<void> {
    const campaigns: { workflowId: string; tenant: string }[] = [];
    for await (const wf of this.temporal.workflow.list({
      query: `WorkflowType = 'campaignWorkflow' AND ExecutionStatus = 'Running'`,
    })) {
      if (campaigns.length >= MAX_CAMPAIGNS) break;
      campaigns.push({ workflowId: wf.workflowId, tenant: String(wf.typedSearchAttributes.get(WAIHU_TENANT) ?? '') });
    }
    const results: { tenant: string; task: string; progress: CampaignProgress }[] = [];
    for (let i = 0; i < campaigns.length; i += PARALLEL) {
      await Promise.all(
        campaigns.slice(i, i + PARALLEL).map(async (c) => {
          try {
            // A gRPC deadline, not a race: the call itself ends, nothing lingers past the scrape.
            const progress = await this.temporal.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
              this.temporal.workflow.getHandle(c.workflowId).query(progressQuery),
            );
            results.push({ tenant: c.tenant, task: c.workflowId.replace(/^task\//, ''), progress });
          } catch {
            this.failures.inc();
          }
        }),
      );
    }
    for (const g of [this.taskSeats, this.taskInUse, this.taskWaiting, this.taskLive, this.taskResults]) g.reset();
    this.tenantInUse.reset();
    this.tenantWaiting.reset();
    this.running.set(campaigns.length);
    const tenants = new Map<string, { inUse: number; waiting: number }>();
    for (const { tenant, task, progress: p } of results) {
      const labels = { tenant, task };
      this.taskSeats.set(labels, p.seats);
      this.taskInUse.set(labels, p.dialling);
      this.taskWaiting.set(labels, p.waitingForSeat);
      this.taskLive.set(labels, p.live);
      for (const [result, n] of Object.entries(p.byResult)) this.taskResults.set({ tenant, task, result }, n ?? 0);
      const t = tenants.get(tenant) ?? { inUse: 0, waiting: 0 };
      t.inUse += p.dialling;
      t.waiting += p.waitingForSeat;
      tenants.set(tenant, t);
    }
    for (const [tenant, t] of tenants) {
      this.tenantInUse.set({ tenant }, t.inUse);
      this.tenantWaiting.set({ tenant }, t.waiting);
    }
  }
}
