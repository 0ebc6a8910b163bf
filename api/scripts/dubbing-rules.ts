/**
 * The dubbing list (话术配音, seed-spec §1.11) and the rules this service chose for it:
 *
 * - Every utterance of the script is a row: main-flow nodes (主线流程), KB entries and KB-flow nodes (知识库), and the
 *   global modules (全局配置). Dubbing is keyed by utterance id, so utterance ids must be unique in a script.
 * - Status (DECISION C8): 无需录音 `notNeeded` for an utterance with `${variables}` — its text is only known per
 *   contact, so it is synthesised at call time (cached per text); 已录音 `recorded` once a TTS file or an uploaded
 *   recording exists for its current text; 合成中 `synthesising` while TTS runs; otherwise 未录音 `notRecorded`.
 *   Editing an utterance's text makes its audio stale: the row goes back to not recorded.
 * - Required before 提交审核 ("只有需要录音的话术全部完成配音,才能够对话术提交审核"): every utterance WITHOUT variables
 *   that can be played — all of them except those of a disabled global module — must be recorded, by TTS (语音合成)
 *   or an upload. So an approved version carries every static prompt's audio and a call never waits for synthesis of
 *   a fixed sentence; what was reviewed is what is played.
 */
import type { DubbingStatus, ScriptHeadDoc, UtteranceDubbing } from '../../activities/mongo/script-repository';
import { placeholdersIn } from '../../src/script/graph';
import type { Script, Utterance } from '../../src/script/model';
import type { ScriptProblem } from '../../src/script/validate';

/** 话术类型 of the dubbing list. */
export type UtteranceKind = 'main' | 'kb' | 'global';

/** One row of the dubbing list: an utterance and where it sits (as validate.ts names places). */
export interface UtteranceSite {
  utteranceId: string;
  text: string;
  kind: UtteranceKind;
  /** 话术来源: the flow and node, the KB entry, or the global module. */
  source: string;
  path: string;
  field: string;
  flowId?: string;
  nodeId?: string;
  kbEntryId?: string;
  /** False only for the utterances of a disabled global module (they are never played). */
  playable: boolean;
  hasVariables: boolean;
}

/** Every utterance of the script, in the order of the editor's tabs. */
export function utteranceSites(script: Script): UtteranceSite[] {
  const out: UtteranceSite[] = [];
  const add = (u: Utterance, rest: Omit<UtteranceSite, 'utteranceId' | 'text' | 'hasVariables'>) =>
    out.push({ utteranceId: u.id, text: u.text, hasVariables: placeholdersIn(u.text).length > 0, ...rest });
  script.flows.forEach((flow, fi) =>
    flow.nodes.forEach((node, ni) =>
      node.utterances.forEach((u, ui) =>
        add(u, {
          kind: 'main',
          source: `${flow.name}/${node.name}`,
          path: `flows[${fi}].nodes[${ni}]`,
          field: `utterances[${ui}]`,
          flowId: flow.id,
          nodeId: node.id,
          playable: true,
        }),
      ),
    ),
  );
  script.kbEntries.forEach((entry, ei) => {
    if (entry.answer.mode !== 'single') return;
    entry.answer.utterances.forEach((u, ui) =>
      add(u, {
        kind: 'kb',
        source: entry.name,
        path: `kbEntries[${ei}]`,
        field: `answer.utterances[${ui}]`,
        kbEntryId: entry.id,
        playable: true,
      }),
    );
  });
  script.kbFlows.forEach((flow, fi) =>
    flow.nodes.forEach((node, ni) =>
      node.utterances.forEach((u, ui) =>
        add(u, {
          kind: 'kb',
          source: `${flow.name}/${node.name}`,
          path: `kbFlows[${fi}].nodes[${ni}]`,
          field: `utterances[${ui}]`,
          flowId: flow.id,
          nodeId: node.id,
          playable: true,
        }),
      ),
    ),
  );
  const g = script.globalConfig;
  const gp = 'globalConfig';
  for (const key of ['noReply', 'unrecognized'] as const) {
    g[key].steps.forEach((step, si) =>
      add(step.utterance, {
        kind: 'global',
        source: key,
        path: gp,
        field: `${key}.steps[${si}].utterance`,
        playable: g[key].enabled,
      }),
    );
  }
  for (const key of [
    'repeat',
    'interrupt',
    'cumulativeNoReply',
    'repeatedQuestion',
    'tooManyQuestions',
    'cumulativeUnrecognized',
    'maxDuration',
  ] as const) {
    const m = g[key];
    if (m.utterance)
      add(m.utterance, { kind: 'global', source: key, path: gp, field: `${key}.utterance`, playable: m.enabled });
  }
  return out;
}

/** Utterance ids must be unique across the script: dubbing and the call's audio are keyed by them. */
export function duplicateUtteranceIds(sites: UtteranceSite[]): ScriptProblem[] {
  const seen = new Map<string, UtteranceSite>();
  const out: ScriptProblem[] = [];
  for (const s of sites) {
    const first = seen.get(s.utteranceId);
    if (first) {
      out.push({
        path: s.path,
        field: `${s.field}.id`,
        rule: 'structure',
        value: s.utteranceId,
        reason: `utterance ids are unique in a script (dubbing is keyed by them); also used at ${first.path}.${first.field}`,
        ...(s.flowId ? { flowId: s.flowId } : {}),
        ...(s.nodeId ? { nodeId: s.nodeId } : {}),
        ...(s.kbEntryId ? { kbEntryId: s.kbEntryId } : {}),
      });
    } else seen.set(s.utteranceId, s);
  }
  return out;
}

/** A `synthesising` row older than this was left by a crashed request: it counts as not recorded. */
export const SYNTHESIS_STALE_MS = 5 * 60_000;

/**
 * The dubbing map of a script's current text, carrying over the audio of every utterance whose text is unchanged
 * (from the previous draft, or the version a new draft is edited from).
 */
export function reconcileDubbing(
  sites: UtteranceSite[],
  previous: Readonly<Record<string, UtteranceDubbing>>,
  now: Date,
): Record<string, UtteranceDubbing> {
  const out: Record<string, UtteranceDubbing> = {};
  for (const s of sites) {
    const prev = previous[s.utteranceId];
    const same = prev && prev.text === s.text;
    if (s.hasVariables) {
      out[s.utteranceId] = {
        status: 'notNeeded',
        source: 'tts',
        text: s.text,
        ...(same && prev.voice ? { voice: prev.voice } : {}),
        updatedAt: same ? prev.updatedAt : now,
      };
    } else if (same && (prev.status === 'recorded' || isLiveSynthesis(prev, now))) {
      out[s.utteranceId] = prev;
    } else {
      out[s.utteranceId] = { status: 'notRecorded', source: prev?.source ?? 'tts', text: s.text, updatedAt: now };
    }
  }
  return out;
}

const isLiveSynthesis = (d: UtteranceDubbing, now: Date) =>
  d.status === 'synthesising' && now.getTime() - new Date(d.updatedAt).getTime() < SYNTHESIS_STALE_MS;

/** The status shown for a row (a stale synthesis shows as not recorded). */
export function effectiveStatus(d: UtteranceDubbing | undefined, now: Date): DubbingStatus {
  if (!d) return 'notRecorded';
  if (d.status === 'synthesising' && !isLiveSynthesis(d, now)) return 'notRecorded';
  return d.status;
}

/** The rows that block 提交审核: playable, without variables, not recorded. */
export function unvoicedProblems(
  sites: UtteranceSite[],
  dubbing: Readonly<Record<string, UtteranceDubbing>>,
  now: Date,
): ScriptProblem[] {
  return sites
    .filter((s) => s.playable && !s.hasVariables && effectiveStatus(dubbing[s.utteranceId], now) !== 'recorded')
    .map((s) => ({
      path: s.path,
      field: s.field,
      rule: 'completeness' as const,
      value: s.utteranceId,
      reason: 'the utterance is not voiced: synthesise it (TTS) or upload a recording before submitting (§1.11)',
      ...(s.flowId ? { flowId: s.flowId } : {}),
      ...(s.nodeId ? { nodeId: s.nodeId } : {}),
      ...(s.kbEntryId ? { kbEntryId: s.kbEntryId } : {}),
    }));
}

/**
 * The scene class of an industry + scene pair (DECISION N4), which decides whether the industry bans of §9 apply.
 * The seed's examples: 语音验证码; 语音通知 (服务提醒, 预约通知); 回访 (满意度回访, 售后回访); everything else is
 * marketing, the strictest.
 */
export function sceneClassOf(industry: string, scene: string): ScriptHeadDoc['sceneClass'] {
  const s = `${industry} ${scene}`;
  if (/验证码/.test(s)) return 'verificationCode';
  if (/回访|满意度|调研/.test(s)) return 'followUp';
  if (/通知|提醒|预约/.test(s)) return 'notification';
  return 'marketing';
}
