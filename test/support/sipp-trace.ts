/**
 * sipp callees that write every SIP message they receive to a file (`-trace_msg -message_file`), so a test can
 * count INVITEs on the phone network's side of the trunk instead of trusting Asterisk or our own records.
 *
 * Each new call reaches sipp as an INVITE with a Call-ID of its own: one ARI channel is one SIP dialog, so an
 * attempt dialled twice (a second channel, even under the same channel id) shows as two Call-IDs. Retransmissions
 * and in-dialog re-INVITEs repeat their Call-ID, so dialogs are counted by distinct Call-ID.
 * sipp 3.6.1 writes the message log as it goes (checked: the file is complete while sipp still runs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCallee, type Behaviour, type SippCallee } from './sipp';

export interface TracedCallee extends SippCallee {
  /** Every SIP message sipp received or sent, in order. */
  messageFile: string;
}

/**
 * Start one sipp UAS that logs its messages into `dir`. Ports as in ./sipp.ts: media and control ports are derived
 * from the SIP port so callees on distinct SIP ports never collide. Stop it with `stopCallees`.
 */
export async function startTracedCallee(behaviour: Behaviour, port: number, dir: string): Promise<TracedCallee> {
  const messageFile = join(dir, `${behaviour}-${port}-messages.log`);
  const callee = await startCallee(behaviour, port, ['-trace_msg', '-message_file', messageFile]);
  return { ...callee, messageFile };
}

/** One INVITE as sipp received it. */
export interface ReceivedInvite {
  /** The Request-URI's user part: the dialled number without its `+`. */
  user: string;
  callId: string;
  /** sipp's timestamp line, e.g. `2026-11-27 10:39:30.141535`. */
  at: string;
}

/** Every INVITE request sipp logged as received, retransmissions and re-INVITEs included. */
export function receivedInvites(messageFile: string): ReceivedInvite[] {
  let text: string;
  try {
    text = readFileSync(messageFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []; // sipp creates it with the first message
    throw err;
  }
  const invites: ReceivedInvite[] = [];
  // Each message is preceded by a separator line of dashes and a timestamp.
  for (const block of text.split(/^-{20,} /m).slice(1)) {
    const lines = block.split(/\r?\n/);
    const at = lines[0]?.trim() ?? '';
    if (!/message received/.test(lines[1] ?? '')) continue;
    const startLine = lines.slice(2).find((l) => l.trim() !== '') ?? '';
    const request = /^INVITE sip:([^@;>\s]+)@\S+ SIP\/2\.0$/.exec(startLine.trim());
    if (!request) continue;
    const callId = /^(?:Call-ID|i):\s*(\S+)\s*$/im.exec(block)?.[1];
    if (!callId) throw new Error(`INVITE without a Call-ID in ${messageFile} at ${at}`);
    invites.push({ user: request[1]!, callId, at });
  }
  return invites;
}

/** INVITE dialogs (distinct Call-IDs) per dialled number, over several callees' logs. */
export function dialogsByNumber(invites: readonly ReceivedInvite[]): Map<string, Set<string>> {
  const byUser = new Map<string, Set<string>>();
  for (const i of invites) {
    const set = byUser.get(i.user) ?? new Set<string>();
    set.add(i.callId);
    byUser.set(i.user, set);
  }
  return byUser;
}
