import RE2 from 're2';
import { demoScript } from './demo';
import { type JumpNode, type NormalNode, PRESET_INTENTS, PRESET_KB_ENTRIES, type Script } from './model';
import { checkKeywordPattern, hasNestedQuantifier, KEYWORD_FLAGS, testKeywords } from './regex';
import { type ScriptProblem, validateScript, validateVariableValues, variablesUsed } from './validate';

const submit = (s: Script) => validateScript(s, { stage: 'submit' });
const save = (s: Script) => validateScript(s, { stage: 'save' });

function node(s: Script, flow: number, id: string): NormalNode {
  const n = s.flows[flow]!.nodes.find((x) => x.id === id);
  if (n?.kind !== 'normal') throw new Error(`fixture: ${id}`);
  return n;
}

describe(validateScript.name, () => {
  it('accepts the demo script for submission, every flow complete', () => {
    const report = submit(demoScript());
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.flows.every((f) => f.complete)).toBe(true);
  });

  it('a dangling branch (lit, no edge) names the node and the branch; a draft may be unfinished, a submission not', () => {
    const s = demoScript();
    s.flows[0]!.edges = s.flows[0]!.edges.filter((e) => e.branchId !== 'refuse');
    const expected: Partial<ScriptProblem> = {
      path: 'flows[0].nodes[0]',
      flowId: 'f.open',
      nodeId: 'greet',
      field: 'branches[2]',
      rule: 'completeness',
      reason: 'the lit branch is not connected to a node',
    };
    expect(submit(s).problems).toContainEqual(expect.objectContaining(expected));
    expect(submit(s).ok).toBe(false);
    const draft = save(s);
    expect(draft.ok).toBe(true);
    expect(draft.warnings).toContainEqual(expect.objectContaining(expected));
    expect(draft.flows).toContainEqual({ scope: 'main', flowId: 'f.open', complete: false });
    // The refused node is now unreachable as well.
    expect(submit(s).problems).toContainEqual(
      expect.objectContaining({ nodeId: 'refused', reason: 'the node cannot be reached from the flow entry' }),
    );
  });

  it('an edge into a missing node is refused even in a draft', () => {
    const s = demoScript();
    s.flows[0]!.edges[0]!.toNodeId = 'ghost';
    expect(save(s).problems).toContainEqual(
      expect.objectContaining({ path: 'flows[0].edges[0]', nodeId: 'greet', field: 'toNodeId', value: 'ghost' }),
    );
  });

  it('a bad regex names the intent and the keyword', () => {
    const s = demoScript();
    s.intents.find((i) => i.id === 'demo.satisfied')!.keywords.push('满意(');
    const index = s.intents.findIndex((i) => i.id === 'demo.satisfied');
    const problems = save(s).problems;
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: `intents[${index}]`,
        intentId: 'demo.satisfied',
        field: 'keywords[1]',
        value: '满意(',
        rule: 'structure',
      }),
    );
    expect(problems[0]!.reason).toMatch(/not a valid RE2 regular expression/);
  });

  it('a catastrophic regex is refused, naming the KB entry and the keyword', () => {
    const s = demoScript();
    const index = s.kbEntries.findIndex((e) => e.id === 'demo.kb.return');
    s.kbEntries[index]!.keywords.push('(a+)+$');
    expect(save(s).problems).toEqual([
      expect.objectContaining({
        path: `kbEntries[${index}]`,
        kbEntryId: 'demo.kb.return',
        field: 'keywords[1]',
        value: '(a+)+$',
        reason: expect.stringMatching(/nested repetition/),
      }),
    ]);
  });

  it('a bad variable name names the node and the utterance', () => {
    const s = demoScript();
    node(s, 0, 'greet').utterances[1]!.text = '请问您是${1name}本人吗?尾号${mobile}';
    const problems = save(s).problems;
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: 'flows[0].nodes[0]',
        nodeId: 'greet',
        field: 'utterances[1].text',
        value: '1name',
        reason: expect.stringMatching(/starting with an English letter/),
      }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({ nodeId: 'greet', field: 'utterances[1].text', value: 'mobile' }),
    );
  });

  it('accepts underscores and digits after the first letter (DECISION C4)', () => {
    const s = demoScript();
    node(s, 0, 'greet').utterances[1]!.text = '请问您是${cust_name2}本人吗?';
    expect(submit(s).ok).toBe(true);
  });

  it('a forbidden word names the node and the utterance; a warning on save, refused on submission', () => {
    const s = demoScript();
    node(s, 1, 'rate').utterances[0]!.text = '我们还有低息贷款,您需要吗?';
    const expected = {
      path: 'flows[1].nodes[0]',
      flowId: 'f.survey',
      nodeId: 'rate',
      field: 'utterances[0].text',
      rule: 'content',
      value: '贷款',
    };
    expect(submit(s).problems).toEqual([expect.objectContaining(expected)]);
    expect(save(s).ok).toBe(true);
    expect(save(s).warnings).toContainEqual(expect.objectContaining(expected));
  });

  it('industry words are refused in marketing scenes only (DECISION N4); the word list is configurable', () => {
    const s = demoScript();
    node(s, 1, 'rate').utterances[0]!.text = '您对我们的教育课程满意吗?';
    expect(submit(s).ok).toBe(true); // follow-up scene
    s.sceneClass = 'marketing';
    expect(submit(s).problems).toContainEqual(expect.objectContaining({ value: '教育', nodeId: 'rate' }));
    const custom = validateScript(s, {
      stage: 'submit',
      rules: { topics: ['满意'], marketingOnly: [], verificationCodeOnlyIndustries: [], bannedScenes: [] },
    });
    expect(custom.problems.map((p) => p.value)).toEqual(expect.arrayContaining(['满意']));
    expect(custom.problems.map((p) => p.value)).not.toContain('教育');
  });

  it('refuses links, variable-only utterances and (when asked) phone numbers', () => {
    const s = demoScript();
    node(s, 1, 'rate').utterances[0]!.text = '详情请访问 www.example.com 查看';
    node(s, 1, 'rate').utterances[1]!.text = '你好:${content}';
    const problems = submit(s).problems;
    expect(problems).toContainEqual(
      expect.objectContaining({ field: 'utterances[0].text', reason: 'links are not allowed (§9)' }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({ field: 'utterances[1].text', reason: expect.stringMatching(/only variables/) }),
    );
    const phone = demoScript();
    node(phone, 1, 'rate').utterances[1]!.text = '有问题请拨打13800138000';
    expect(submit(phone).ok).toBe(true);
    expect(validateScript(phone, { stage: 'submit', refusePhoneNumbers: true }).problems).toHaveLength(1);
  });

  it('任何回复 is exclusive of the other six', () => {
    const s = demoScript();
    node(s, 1, 'reason').branches.push({ id: 'yes', type: 'AFFIRM', name: '肯定', intentIds: ['preset.affirm'] });
    s.flows[1]!.edges.push({ fromNodeId: 'reason', branchId: 'yes', toNodeId: 'sorry' });
    expect(save(s).problems).toEqual([
      expect.objectContaining({
        nodeId: 'reason',
        field: 'branches[1].type',
        reason: expect.stringMatching(/exclusive/),
      }),
    ]);
  });

  it('a jump into a missing flow, or into a KB flow (no chaining), is refused', () => {
    const s = demoScript();
    const toSurvey = s.flows[0]!.nodes.find((n) => n.id === 'toSurvey') as JumpNode;
    toSurvey.action = { type: 'jumpToFlow', flowId: 'nowhere' };
    const back = s.kbFlows[0]!.nodes.find((n) => n.id === 'k.back') as JumpNode;
    back.action = { type: 'jumpToFlow', flowId: 'kbf.logistics' };
    const problems = save(s).problems;
    expect(problems).toContainEqual(
      expect.objectContaining({
        nodeId: 'toSurvey',
        field: 'action.flowId',
        reason: 'the jump leads to a missing main flow',
      }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: 'kbFlows[0].nodes[2]',
        nodeId: 'k.back',
        reason: expect.stringMatching(/do not chain/),
      }),
    );
  });

  it('a main-flow jump node may not use the KB-only actions', () => {
    const s = demoScript();
    (s.flows[0]!.nodes.find((n) => n.id === 'wrongPerson') as JumpNode).action = { type: 'returnToNode' };
    expect(save(s).problems).toContainEqual(expect.objectContaining({ nodeId: 'wrongPerson', field: 'action.type' }));
  });

  it('enforces the seed’s limits (§11) and reports every problem, not just the first', () => {
    const s = demoScript();
    s.name = '话'.repeat(31);
    s.remarks = '注'.repeat(51);
    s.kbFlows[0]!.name = '物'.repeat(13);
    const greet = node(s, 0, 'greet');
    greet.utterances = Array.from({ length: 5 }, (_, i) => ({ id: `g${i}`, text: `第${i}句` }));
    greet.utterances[0]!.text = '长'.repeat(501);
    s.intents[0]!.name = '意'.repeat(31);
    const fields = save(s).problems.map((p) => `${p.path}:${p.field}`);
    expect(fields).toEqual(
      expect.arrayContaining([
        ':name',
        ':remarks',
        'kbFlows[0]:name',
        'flows[0].nodes[0]:utterances',
        'flows[0].nodes[0]:utterances[0].text',
        'intents[0]:name',
      ]),
    );
  });

  it('an utterance over 150 characters is a warning only (DECISION C3)', () => {
    const s = demoScript();
    node(s, 1, 'rate').utterances[0]!.text = '好'.repeat(151);
    const report = submit(s);
    expect(report.ok).toBe(true);
    expect(report.warnings).toContainEqual(expect.objectContaining({ nodeId: 'rate', field: 'utterances[0].text' }));
  });

  it('a flow without an entry and a node without utterances are 未完成', () => {
    const s = demoScript();
    s.flows[1]!.entryNodeId = undefined;
    node(s, 0, 'greet').utterances = [];
    const problems = submit(s).problems;
    expect(problems).toContainEqual(
      expect.objectContaining({ flowId: 'f.survey', field: 'entryNodeId', rule: 'completeness' }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({ nodeId: 'greet', field: 'utterances', rule: 'completeness' }),
    );
    expect(save(s).ok).toBe(true);
  });

  it('checks the global configuration', () => {
    const s = demoScript();
    s.globalConfig.cumulativeNoReply.threshold = 0;
    s.globalConfig.repeat.intentIds = ['missing'];
    const fields = save(s).problems.map((p) => `${p.path}:${p.field}`);
    expect(fields).toEqual(['globalConfig:cumulativeNoReply.threshold', 'globalConfig:repeat.intentIds[0]']);
  });
});

describe('keyword regexes (RE2)', () => {
  it('RE2 itself compiles (a+)+$ and matches it in linear time — so the refusal is ours, by structure', () => {
    const re = new RE2('(a+)+$', KEYWORD_FLAGS);
    const started = process.hrtime.bigint();
    expect(re.test('a'.repeat(100_000) + '!')).toBe(false);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
    expect(checkKeywordPattern('(a+)+$')).toMatchObject({ ok: false, reason: expect.stringMatching(/nested/) });
  });

  it('RE2 refuses backreferences and lookaround; we pass its reason on', () => {
    expect(checkKeywordPattern('(a)\\1')).toMatchObject({ ok: false, reason: expect.stringMatching(/RE2/) });
    expect(checkKeywordPattern('(?=a)b')).toMatchObject({ ok: false });
    expect(checkKeywordPattern('[abc')).toMatchObject({ ok: false });
  });

  it.each(['(a+)+', '(a*)*b', '(?:x+y)*', '(a{1,5}){2,}', '((ab)+c)+', '(.*)*'])(
    'refuses the nested repetition %s',
    (p) => {
      expect(hasNestedQuantifier(p)).toBe(true);
    },
  );

  it.each([
    '不在家|出去',
    '(ab)+',
    'x(a+b)?',
    '[(+]+',
    '\\(a+\\)+',
    'a{2}(b){3}',
    '(?i)abc+',
    '\\p{Han}+',
    '(是|对)的?',
  ])('accepts %s', (p) => {
    expect(hasNestedQuantifier(p)).toBe(false);
    expect(checkKeywordPattern(p)).toEqual({ ok: true });
  });

  it('refuses empty patterns, patterns that match the empty reply, and overlong ones', () => {
    expect(checkKeywordPattern('')).toMatchObject({ ok: false });
    expect(checkKeywordPattern('a*')).toMatchObject({ ok: false, reason: expect.stringMatching(/empty reply/) });
    expect(checkKeywordPattern('a'.repeat(101))).toMatchObject({ ok: false });
  });

  it('every preset keyword is valid', () => {
    for (const item of [...PRESET_INTENTS, ...PRESET_KB_ENTRIES]) {
      for (const k of item.keywords) expect([item.id, k, checkKeywordPattern(k)]).toEqual([item.id, k, { ok: true }]);
    }
  });

  it('测试正则表达式: tells which keywords match a sample', () => {
    expect(testKeywords(['没人|不在家', '出去', '(a'], '家里没人')).toEqual([
      { pattern: '没人|不在家', matched: true },
      { pattern: '出去', matched: false },
      { pattern: '(a', matched: false, error: expect.any(String) },
    ]);
  });
});

describe('variables', () => {
  it('validateVariableValues: fewer than 150 characters, no links (§9)', () => {
    expect(validateVariableValues({ custName: '张三', note: '好'.repeat(149) })).toEqual([]);
    expect(validateVariableValues({ note: '好'.repeat(150) })).toEqual([
      expect.objectContaining({ field: 'note', reason: expect.stringMatching(/fewer than 150/) }),
    ]);
    expect(validateVariableValues({ url: '点击 https://x.cn/a' })).toEqual([
      expect.objectContaining({ field: 'url', reason: expect.stringMatching(/links/) }),
    ]);
  });

  it('variablesUsed lists what a call list must supply', () => {
    expect(variablesUsed(demoScript()).sort()).toEqual(['custName', 'shopName']);
  });
});
