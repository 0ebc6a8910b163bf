/** Injection token of the agent directory (activities/agents/agent-directory.ts), one per API process. */
export const AGENT_DIRECTORY = Symbol('AGENT_DIRECTORY');
