/** The workflow bundle's entry: every workflow type the worker serves. */
export { campaignWorkflow } from './campaign';
export { contactCallWorkflow } from './contact-call';
export { skillGroupQueueWorkflow } from './skill-group-queue';
