/**
 * Classifies what the callee said at a node. Runs in an activity (it needs RE2, a native module); the dialog engine
 * receives its {@link MatchResult}.
 *
 * Order (seed-spec §1.8, §9 item 9 — the seed gives no keyword-vs-NLU precedence, so keywords come first, §1.5):
 * 1. the current node's lit branches: 任何回复 takes any non-empty reply (it is exclusive of the other six);
 *    otherwise the keywords of each branch's intents, in branch order, first hit wins; then the example utterances
 *    of those intents by similarity, best score ≥ {@link SIMILARITY_THRESHOLD} wins (ties: the earlier branch);
 * 2. the knowledge base, the same way: keywords in entry order, then the best example similarity; inside a KB flow
 *    only single-answer entries (KB flows do not chain);
 * 3. the global 重说 / 打断 intents of enabled modules, keywords then similarity;
 * 4. otherwise `none` (the engine's 未识别 handling).
 *
 * Similarity works for Chinese without a model: character bigrams of the normalised texts (NFKC, lower case,
 * punctuation and spaces removed; a one-character text is its own unigram), scored as
 * `max(Dice(text, example), CONTAINMENT_WEIGHT × share of the example's bigrams found in the text)` — the second
 * term lets 我现在正在开车呢 match the example 在开车. Bigrams cannot see negation, so when exactly one side contains
 * a negation (不 没 别 未 无, idioms such as 没问题 and 不错 excepted) the score is multiplied by
 * {@link POLARITY_PENALTY}: 不是的 does not read as 是的.
 *
 * Time: RE2 is linear in the text, and the text is cut to {@link MAX_MATCH_TEXT} characters, so a turn's cost is
 * bounded by (keywords × text length) whatever the script contains.
 */
import { branchOfType, findNode, matchDtmf } from './graph';
import { INTENT_BRANCH_TYPES, type Intent, type KbEntry, type MatchResult, type NodeRef, type Script } from './model';
import { compileKeyword } from './regex';
import type RE2 from 're2';

/** Minimum similarity for an example utterance to count. */
export const SIMILARITY_THRESHOLD = 0.6;
/** Weight of "the text contains the example" relative to a full Dice match. */
export const CONTAINMENT_WEIGHT = 0.9;
/** Multiplier when exactly one of text and example is negated. */
export const POLARITY_PENALTY = 0.5;
/** Longer recognised texts are cut (a turn is a sentence or two). */
export const MAX_MATCH_TEXT = 200;

/** Strip what carries no meaning for matching. */
export function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\p{P}\p{S}]/gu, '');
}

function grams(normalised: string): Set<string> {
  const chars = Array.from(normalised);
  if (chars.length === 1) return new Set(chars);
  const out = new Set<string>();
  for (let i = 0; i + 1 < chars.length; i++) out.add(chars[i]! + chars[i + 1]!);
  return out;
}

const NEGATION = /[不没别未无]/u;
const NOT_NEGATION = /没问题|没错|不错|不客气|无所谓/gu;
const negated = (normalised: string): boolean => NEGATION.test(normalised.replace(NOT_NEGATION, ''));

/** Similarity in [0, 1] of two texts, as described in the header. Exported for tests and the editor's preview. */
export function similarity(text: string, example: string): number {
  const a = normalise(text);
  const b = normalise(example);
  if (!a || !b) return 0;
  return scoreGrams(a, grams(a), b, grams(b));
}

function scoreGrams(a: string, ga: Set<string>, b: string, gb: Set<string>): number {
  let shared = 0;
  for (const g of gb) if (ga.has(g)) shared++;
  const dice = (2 * shared) / (ga.size + gb.size);
  const containment = (shared / gb.size) * CONTAINMENT_WEIGHT;
  const score = Math.max(dice, containment);
  return negated(a) !== negated(b) ? score * POLARITY_PENALTY : score;
}

interface CompiledIntentLike {
  keywords: RE2[];
  examples: { text: string; grams: Set<string> }[];
}

function compileItem(item: Pick<Intent | KbEntry, 'keywords' | 'examples'>): CompiledIntentLike {
  return {
    keywords: item.keywords.map(compileKeyword).filter((re): re is RE2 => re !== undefined),
    examples: item.examples
      .map(normalise)
      .filter((t) => t.length > 0)
      .map((text) => ({ text, grams: grams(text) })),
  };
}

export interface Matcher {
  /** Classify recognised speech at a node. An empty text is `none` (the engine treats it as silence). */
  match(text: string, at: NodeRef): MatchResult;
  /** Classify a DTMF key (exact lookup; the engine does the same itself). */
  matchDtmf(digit: string, at: NodeRef): MatchResult;
}

interface Candidate<T> {
  ref: T;
  intentId?: string;
  compiled: CompiledIntentLike;
}

/**
 * Build a matcher for one script: every keyword compiled once with RE2 (a pattern the validator would refuse is
 * skipped), every example turned into bigrams once.
 */
export function createMatcher(script: Script): Matcher {
  const intents = new Map(script.intents.map((i) => [i.id, compileItem(i)]));
  const kb = script.kbEntries.map((e) => ({ entry: e, compiled: compileItem(e) }));

  function keywordHit<T>(candidates: Candidate<T>[], raw: string): Candidate<T> | undefined {
    return candidates.find((c) => c.compiled.keywords.some((re) => re.test(raw)));
  }

  function bestSimilar<T>(
    candidates: Candidate<T>[],
    text: string,
  ): { candidate: Candidate<T>; score: number } | undefined {
    const g = grams(text);
    let best: { candidate: Candidate<T>; score: number } | undefined;
    for (const candidate of candidates) {
      for (const ex of candidate.compiled.examples) {
        const score = scoreGrams(text, g, ex.text, ex.grams);
        if (score >= SIMILARITY_THRESHOLD && (!best || score > best.score)) best = { candidate, score };
      }
    }
    return best;
  }

  function match(input: string, at: NodeRef): MatchResult {
    const raw = Array.from(input.normalize('NFKC').trim()).slice(0, MAX_MATCH_TEXT).join('');
    const text = normalise(raw);
    if (!text) return { kind: 'none', score: 0 };

    // 1. The node's lit branches.
    const node = findNode(script, at);
    if (node?.kind === 'normal') {
      const any = branchOfType(node, 'ANY');
      if (any) return { kind: 'branch', branchId: any.id, branchType: 'ANY', score: 1, via: 'any' };
      const branchCandidates: Candidate<(typeof node.branches)[number]>[] = node.branches
        .filter((b) => INTENT_BRANCH_TYPES.includes(b.type))
        .flatMap((b) =>
          b.intentIds.flatMap((intentId) => {
            const compiled = intents.get(intentId);
            return compiled ? [{ ref: b, intentId, compiled }] : [];
          }),
        );
      const hit = keywordHit(branchCandidates, raw);
      if (hit) {
        return {
          kind: 'branch',
          branchId: hit.ref.id,
          branchType: hit.ref.type,
          intentId: hit.intentId,
          score: 1,
          via: 'keyword',
        };
      }
      const similar = bestSimilar(branchCandidates, text);
      if (similar) {
        const { ref, intentId } = similar.candidate;
        return {
          kind: 'branch',
          branchId: ref.id,
          branchType: ref.type,
          intentId,
          score: similar.score,
          via: 'similarity',
        };
      }
    }

    // 2. The knowledge base (no KB flow from inside a KB flow).
    const kbCandidates: Candidate<KbEntry>[] = kb
      .filter(({ entry }) => !(at.scope === 'kb' && entry.answer.mode === 'flow'))
      .map(({ entry, compiled }) => ({ ref: entry, compiled }));
    const kbHit = keywordHit(kbCandidates, raw);
    if (kbHit) return { kind: 'kb', kbEntryId: kbHit.ref.id, score: 1, via: 'keyword' };
    const kbSimilar = bestSimilar(kbCandidates, text);
    if (kbSimilar)
      return { kind: 'kb', kbEntryId: kbSimilar.candidate.ref.id, score: kbSimilar.score, via: 'similarity' };

    // 3. The enabled global intents.
    const { repeat, interrupt } = script.globalConfig;
    const globals: Candidate<'repeat' | 'interrupt'>[] = (
      [
        ['repeat', repeat],
        ['interrupt', interrupt],
      ] as const
    )
      .filter(([, cfg]) => cfg.enabled)
      .flatMap(([module, cfg]) =>
        cfg.intentIds.flatMap((intentId) => {
          const compiled = intents.get(intentId);
          return compiled ? [{ ref: module, intentId, compiled }] : [];
        }),
      );
    const globalHit = keywordHit(globals, raw);
    if (globalHit)
      return { kind: 'global', module: globalHit.ref, intentId: globalHit.intentId!, score: 1, via: 'keyword' };
    const globalSimilar = bestSimilar(globals, text);
    if (globalSimilar) {
      const { ref, intentId } = globalSimilar.candidate;
      return { kind: 'global', module: ref, intentId: intentId!, score: globalSimilar.score, via: 'similarity' };
    }

    // 4. Nothing recognised.
    return { kind: 'none', score: 0 };
  }

  return { match, matchDtmf: (digit, at) => matchDtmf(script, at, digit) };
}
