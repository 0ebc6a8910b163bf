/**
 * Workflow bundle entry of the campaign benchmark (bench/campaign.ts): every production workflow, unchanged, plus one
 * benchmark-only workflow for the baseline. Not served by the production worker.
 */
export { campaignWorkflow, contactCallWorkflow } from '../workflows';

/** Benchmark-only: the barest workflow there is — one workflow task that completes it. */
export function benchBareWorkflow(): Promise<void> {
  return Promise.resolve();
}
