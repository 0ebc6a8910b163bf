import { demoScript } from './demo';
import { createMatcher, normalise, similarity, SIMILARITY_THRESHOLD } from './matcher';
import { type NodeRef, type Script } from './model';

const greet: NodeRef = { scope: 'main', flowId: 'f.open', nodeId: 'greet' };
const rate: NodeRef = { scope: 'main', flowId: 'f.survey', nodeId: 'rate' };
const reason: NodeRef = { scope: 'main', flowId: 'f.survey', nodeId: 'reason' };
const kbAsk: NodeRef = { scope: 'kb', flowId: 'kbf.logistics', nodeId: 'k.ask' };

/** The demo script with one extra intent on the rate node that has examples only (no keywords). */
function scriptWithExamplesOnly(): Script {
  const s = demoScript();
  s.intents.push({ id: 'i.when', name: '问发货时间', keywords: [], examples: ['什么时候能发货'] });
  const rateNode = s.flows[1]!.nodes[0]!;
  if (rateNode.kind !== 'normal') throw new Error('fixture');
  rateNode.branches.push({ id: 'when', type: 'CUSTOM', name: '问发货', intentIds: ['i.when'] });
  s.flows[1]!.edges.push({ fromNodeId: 'rate', branchId: 'when', toNodeId: 'thanks' });
  return s;
}

describe('similarity', () => {
  it('is 1 for the same words, 0 for nothing in common, and ignores punctuation, width and case', () => {
    expect(similarity('我在开车', '我在开车')).toBe(1);
    expect(similarity('我在开车', '今天下雨')).toBe(0);
    expect(normalise('Ｏｋ， 好的！')).toBe('ok好的');
    expect(similarity('好的！', '好的')).toBe(1);
  });

  it('matches a Chinese paraphrase by character bigrams, and a text that contains the whole example', () => {
    expect(similarity('请问啥时候能发货呀', '什么时候能发货')).toBeGreaterThanOrEqual(SIMILARITY_THRESHOLD);
    expect(similarity('我现在正在开车呢', '在开车')).toBeGreaterThanOrEqual(SIMILARITY_THRESHOLD);
    expect(similarity('今天天气怎么样', '什么时候能发货')).toBeLessThan(SIMILARITY_THRESHOLD);
  });

  it('does not read a negated text as its positive example', () => {
    expect(similarity('是的', '是的')).toBe(1);
    expect(similarity('不是的', '是的')).toBeLessThan(SIMILARITY_THRESHOLD);
    expect(similarity('没问题的', '没问题')).toBeGreaterThanOrEqual(SIMILARITY_THRESHOLD);
  });
});

describe(createMatcher.name, () => {
  const m = createMatcher(demoScript());

  it('tries the node’s branch keywords first, in branch order (不满意 before 满意)', () => {
    expect(m.match('不满意', rate)).toMatchObject({ kind: 'branch', branchId: 'unsat', via: 'keyword', score: 1 });
    expect(m.match('挺满意的', rate)).toMatchObject({ kind: 'branch', branchId: 'sat', intentId: 'demo.satisfied' });
  });

  it('a keyword wins over a better similarity', () => {
    // The text contains the whole example of 问发货 (similarity 0.9) and the keyword 挺好 of 满意: the keyword wins.
    const sm = createMatcher(scriptWithExamplesOnly());
    expect(similarity('什么时候能发货,东西挺好', '什么时候能发货')).toBeGreaterThan(SIMILARITY_THRESHOLD);
    expect(sm.match('什么时候能发货,东西挺好', rate)).toMatchObject({
      kind: 'branch',
      branchId: 'sat',
      via: 'keyword',
    });
  });

  it('falls back to example similarity when no keyword matches', () => {
    const sm = createMatcher(scriptWithExamplesOnly());
    const r = sm.match('请问啥时候能发货呀', rate);
    expect(r).toMatchObject({ kind: 'branch', branchId: 'when', intentId: 'i.when', via: 'similarity' });
    expect(r.score).toBeGreaterThanOrEqual(SIMILARITY_THRESHOLD);
  });

  it('the node’s branches come before the knowledge base', () => {
    // 在开车 matches no branch at greet; it is a preset KB entry.
    expect(m.match('我在开车', greet)).toMatchObject({ kind: 'kb', kbEntryId: 'preset.kb.driving', via: 'keyword' });
    // 不是 is both the 否定 branch keyword and nowhere in the KB: the branch.
    expect(m.match('不是', greet)).toMatchObject({ kind: 'branch', branchType: 'NEGATE' });
    // 退货 at the rate node: no branch matches, the business entry does.
    expect(m.match('我想退货', rate)).toMatchObject({ kind: 'kb', kbEntryId: 'demo.kb.return' });
  });

  it('a negated short answer is not read as 肯定', () => {
    expect(m.match('不是的', greet)).toMatchObject({ kind: 'branch', branchType: 'NEGATE' });
    expect(m.match('是我', greet)).toMatchObject({ kind: 'branch', branchType: 'AFFIRM' });
    expect(m.match('不是我', greet)).toMatchObject({ kind: 'branch', branchType: 'NEGATE' });
  });

  it('任何回复 takes any words at its node', () => {
    expect(m.match('随便吧', reason)).toMatchObject({ kind: 'branch', branchType: 'ANY', via: 'any' });
    expect(m.match('我在开车', reason)).toMatchObject({ kind: 'branch', branchType: 'ANY' });
  });

  it('inside a KB flow, KB-flow entries are not offered (no chaining); single answers are', () => {
    expect(m.match('快递到哪了', rate)).toMatchObject({ kind: 'kb', kbEntryId: 'demo.kb.logistics' });
    expect(m.match('快递到哪了', kbAsk)).toMatchObject({ kind: 'none' });
    expect(m.match('我想退货', kbAsk)).toMatchObject({ kind: 'kb', kbEntryId: 'demo.kb.return' });
  });

  it('the global 重说 intent only when its module is enabled, and after the KB', () => {
    expect(m.match('请再说一遍', rate)).toMatchObject({ kind: 'none' });
    const s = demoScript();
    s.globalConfig.repeat.enabled = true;
    expect(createMatcher(s).match('请再说一遍', rate)).toMatchObject({
      kind: 'global',
      module: 'repeat',
      via: 'keyword',
    });
  });

  it('nothing recognised, or nothing said, is none', () => {
    expect(m.match('今天天气怎么样', rate)).toEqual({ kind: 'none', score: 0 });
    expect(m.match('  ，。 ', rate)).toEqual({ kind: 'none', score: 0 });
  });

  it('classifies DTMF keys exactly', () => {
    expect(m.matchDtmf('1', greet)).toMatchObject({ kind: 'branch', branchType: 'AFFIRM', via: 'dtmf' });
    expect(m.matchDtmf('9', rate)).toMatchObject({ kind: 'kb', kbEntryId: 'demo.kb.logistics' });
    expect(m.matchDtmf('9', kbAsk)).toMatchObject({ kind: 'none' });
  });

  it('skips a keyword the validator refuses instead of throwing, and stays fast on hostile input', () => {
    const s = demoScript();
    s.intents.find((i) => i.id === 'demo.satisfied')!.keywords.push('(a+)+$', '(a)\\1', '[');
    const hostile = createMatcher(s);
    const started = process.hrtime.bigint();
    expect(hostile.match('a'.repeat(5000) + '!', rate)).toMatchObject({ kind: 'none' });
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(500);
  });
});
