/**
 * Business ids end to end. The attempt id is also the ARI channel id and the `_id` of the call record, so a retried
 * activity finds the same channel and the same record instead of dialling twice.
 */

export const taskWorkflowId = (taskId: string): string => `task/${taskId}`;

export const contactWorkflowId = (taskId: string, contactIndex: number): string =>
  `${taskWorkflowId(taskId)}/contact/${contactIndex}`;

/** Attempt numbers start at 1; attempt 2 is the first redial. Only [A-Za-z0-9-] so it is a valid channel id. */
export const attemptId = (taskId: string, contactIndex: number, attempt: number): string =>
  `${taskId}-${contactIndex}-${attempt}`;

export const TASK_ID_PATTERN = /^[A-Za-z0-9]{6,40}$/;

/** The transfer queue of one skill group (an entity workflow that lives as long as transfers keep coming). */
export const queueWorkflowId = (tenantId: string, skillGroupId: string): string => `queue/${tenantId}/${skillGroupId}`;
