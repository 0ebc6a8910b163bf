/**
 * sipp callees for end-to-end tests: one UAS process per behaviour (scenarios in test/sipp/), each on its own
 * loopback port. Started in the background with pinned SIP, media and control ports; stopped by PID.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Behaviour =
  | 'answer'
  | 'busy'
  | 'no-answer'
  | 'decline'
  | 'not-found'
  | 'unavailable'
  | 'congestion'
  | 'callee-hangup'
  | 'dtmf'
  | 'dialog-keys'
  | 'transfer-keys'
  | 'speak'
  | 'talk'
  | 'answer-delayed'
  | 'greeting'
  | 'transfer-talk'
  | 'agent-talk'
  | 'agent-talk-8s'
  | 'agent-late-answer';

export interface SippCallee {
  behaviour: Behaviour;
  port: number;
  pid: number;
}

const SCENARIOS = join(__dirname, '..', 'sipp');

/** Start one sipp UAS; `base` picks the SIP port, media and control ports are derived so nothing collides. */
export async function startCallee(
  behaviour: Behaviour,
  port: number,
  extraArgs: string[] = [],
  options: { cwd?: string } = {},
): Promise<SippCallee> {
  const mediaPort = 20000 + (port % 1000) * 10;
  const controlPort = 30000 + (port % 1000);
  // With -bg sipp forks and the parent exits with status 99 after printing the child's PID; that is success.
  const stdout = await run(
    'sipp',
    [
      '-sf',
      join(SCENARIOS, `${behaviour}.xml`),
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      '-mp',
      String(mediaPort),
      '-cp',
      String(controlPort),
      '-bg',
      '-nostdin',
      ...extraArgs,
    ],
    options,
  ).then(
    (r) => r.stdout,
    (err: { stdout?: string; code?: number }) => {
      if (err.code === 99 && err.stdout) return err.stdout;
      throw err as Error;
    },
  );
  const pid = Number(/PID=\[(\d+)\]/.exec(stdout)?.[1]);
  if (!pid) throw new Error(`sipp ${behaviour} did not report a PID: ${stdout}`);
  return { behaviour, port, pid };
}

export function stopCallees(callees: SippCallee[]): void {
  for (const c of callees) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
