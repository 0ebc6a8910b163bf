/**
 * Agents' SIP phones in Asterisk: each agent's phone is a PJSIP endpoint and an aor named `agent-<agent id>`, pushed
 * at run time through ARI's dynamic configuration, with no restart, exactly as lines are (the same settings and the
 * same code: activities/telephony/pjsip-lines.ts). The aor's one permanent contact is the phone's address
 * (`sip:host:port`), so `PJSIP/agent-<id>` dials the phone.
 *
 * Asterisk config this module needs (templates in config/asterisk/): sorcery.conf mapping res_pjsip's `endpoint` and
 * `aor` to the `memory` wizard beside pjsip.conf, and pjsip.conf's `transport-udp` and `from-carrier` context (calls
 * the phone itself places land there and are hung up). The memory wizard forgets everything when Asterisk restarts:
 * {@link syncAgentPhonesToAsterisk} pushes every stored agent's phone again (a media worker at start-up, and after
 * its ARI connection comes back).
 */
import { pushLine, removeLine, type AsteriskConfigClient } from '../telephony/pjsip-lines';

/** The agent's PJSIP endpoint (and aor) id. */
export const agentEndpoint = (agentId: string) => `agent-${agentId}`;

/** What Asterisk needs of an agent. */
export interface AgentPhone {
  agentId: string;
  /** host:port of the agent's SIP phone. */
  phoneAddress: string;
}

/** Create or update the agent's endpoint and aor (idempotent; a changed address replaces the aor's contact). */
export async function pushAgentPhone(client: AsteriskConfigClient, phone: AgentPhone): Promise<void> {
  await pushLine(client, { _id: agentEndpoint(phone.agentId), address: phone.phoneAddress });
}

/** Remove the agent's endpoint and aor; missing ones are fine. A call in progress is not touched. */
export async function removeAgentPhone(client: AsteriskConfigClient, agentId: string): Promise<void> {
  await removeLine(client, agentEndpoint(agentId));
}

/**
 * Push every stored agent's phone to Asterisk (start-up; after an Asterisk restart). One by one; a phone that fails
 * is reported and the others are still pushed. Endpoints of agents no longer stored are not removed (the API removes
 * an agent's endpoint when it deletes the agent; other deployments or tests may share the Asterisk).
 */
export async function syncAgentPhonesToAsterisk(
  client: AsteriskConfigClient,
  phones: readonly AgentPhone[],
): Promise<{ pushed: number; failed: { agentId: string; error: string }[] }> {
  const failed: { agentId: string; error: string }[] = [];
  let pushed = 0;
  for (const phone of phones) {
    try {
      await pushAgentPhone(client, phone);
      pushed++;
    } catch (err) {
      failed.push({ agentId: phone.agentId, error: (err as Error).message });
    }
  }
  return { pushed, failed };
}
