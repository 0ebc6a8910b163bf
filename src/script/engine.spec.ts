import { demoScript } from './demo';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DialogAction,
  type DialogInput,
  type DialogState,
  type DialogTurn,
  MAX_JUMP_HOPS,
  resumeAfterTransfer,
  startDialog,
  stepDialog,
} from './engine';
import { createMatcher, type Matcher } from './matcher';
import {
  type BranchType,
  type GlobalConfig,
  type JumpNode,
  type KbEntry,
  type MainFlow,
  type NormalNode,
  type PostAnswerAction,
  type Script,
  newScriptDefaults,
  PresetIntentId,
} from './model';

const T0 = 1_700_000_000_000;

// ----- builders -------------------------------------------------------------------------------------------------

const normal = (
  id: string,
  texts: string[],
  branches: [string, BranchType, string[]][],
  extra: Partial<NormalNode> = {},
) =>
  ({
    kind: 'normal',
    id,
    name: id,
    utterances: texts.map((text, i) => ({ id: `${id}.${i + 1}`, text })),
    allowInterrupt: true,
    tags: [],
    branches: branches.map(([bid, type, intentIds]) => ({ id: bid, type, name: bid, intentIds })),
    ...extra,
  }) satisfies NormalNode;

const jump = (id: string, text: string | undefined, action: PostAnswerAction, tags: string[] = []) =>
  ({
    kind: 'jump',
    id,
    name: id,
    utterances: text ? [{ id: `${id}.1`, text }] : [],
    tags,
    action,
  }) satisfies JumpNode;

const flow = (id: string, nodes: (NormalNode | JumpNode)[], edges: [string, string, string][]): MainFlow => ({
  id,
  name: id,
  entryNodeId: nodes[0]?.id,
  nodes,
  edges: edges.map(([fromNodeId, branchId, toNodeId]) => ({ fromNodeId, branchId, toNodeId })),
});

const kbSingle = (
  id: string,
  keyword: string,
  answers: string[],
  action: PostAnswerAction = { type: 'wait' },
  extra: Partial<KbEntry> = {},
): KbEntry => ({
  id,
  name: id,
  type: 'business',
  keywords: [keyword],
  examples: [],
  answer: { mode: 'single', utterances: answers.map((text, i) => ({ id: `${id}.${i + 1}`, text })), action },
  ...extra,
});

/** Everything off except what a test turns on, so each test sees only the rule it is about. */
function quietGlobals(patch: Partial<GlobalConfig> = {}): GlobalConfig {
  const g = newScriptDefaults().globalConfig;
  g.unrecognized.enabled = false;
  return { ...g, ...patch };
}

/**
 * f1: n1 (three utterances, every branch type but 任何回复) → one tagged hang-up node per branch; n2 after AFFIRM
 * at n1 is reached via `toN2`. f2: its entry m1 takes AFFIRM only. The KB has one entry per post-answer action.
 */
function baseScript(globals: Partial<GlobalConfig> = {}): Script {
  const d = newScriptDefaults();
  const bye = (type: string) => jump(`bye.${type}`, `${type} 再见`, { type: 'hangup' }, [type]);
  return {
    id: 's1',
    name: '测试话术',
    industry: '电商',
    scene: '售后回访',
    ...d,
    intents: [
      ...d.intents,
      { id: 'i.price', name: '问价格', keywords: ['价格|多少钱'], examples: [], dtmfKeys: ['7'] },
    ],
    kbEntries: [
      kbSingle('kb.wait', '营业时间', ['我们九点上班'], { type: 'wait' }),
      kbSingle('kb.multi', '地址', ['第一个答案', '第二个答案'], { type: 'wait' }, { tags: ['问地址'] }),
      kbSingle('kb.transfer', '人工', ['为您转人工'], { type: 'transfer', skillGroupId: 'sg1' }),
      kbSingle('kb.hangup', '再见吧', ['好的再见'], { type: 'hangup' }),
      kbSingle('kb.node', '回原节点', ['好的'], { type: 'returnToNode' }),
      kbSingle('kb.entry', '回入口', ['好的'], { type: 'returnToFlowEntry' }),
      kbSingle('kb.other', '去别的流程', ['好的'], { type: 'jumpToFlow', flowId: 'f2' }),
      {
        id: 'kb.flow',
        name: 'kb.flow',
        type: 'business',
        keywords: ['物流'],
        examples: [],
        answer: { mode: 'flow', kbFlowId: 'kf1' },
      },
    ],
    kbFlows: [
      flow(
        'kf1',
        [
          normal(
            'k1',
            ['要查物流吗'],
            [
              ['yes', 'AFFIRM', [PresetIntentId.AFFIRM]],
              ['no', 'NEGATE', [PresetIntentId.NEGATE]],
              ['price', 'CUSTOM', ['i.price']],
            ],
          ),
          jump('k.transfer', '转人工', { type: 'transfer', skillGroupId: 'sg-logistics' }),
          jump('k.wait', '好的您说', { type: 'wait' }),
          jump('k.back', '那我们继续', { type: 'returnToNode' }),
        ],
        [
          ['k1', 'yes', 'k.transfer'],
          ['k1', 'no', 'k.back'],
          ['k1', 'price', 'k.wait'],
        ],
      ),
    ],
    flows: [
      flow(
        'f1',
        [
          normal(
            'n1',
            ['您好${custName},第一句', '第二句', '第三句'],
            [
              ['yes', 'AFFIRM', [PresetIntentId.AFFIRM]],
              ['no', 'NEGATE', [PresetIntentId.NEGATE]],
              ['refuse', 'REFUSE', [PresetIntentId.REFUSE]],
              ['silent', 'NO_REPLY', []],
              ['unrec', 'UNRECOGNIZED', []],
              ['price', 'CUSTOM', ['i.price']],
            ],
            { tags: ['开场'] },
          ),
          bye('AFFIRM'),
          bye('NEGATE'),
          bye('REFUSE'),
          bye('NO_REPLY'),
          bye('UNRECOGNIZED'),
          bye('CUSTOM'),
        ],
        [
          ['n1', 'yes', 'bye.AFFIRM'],
          ['n1', 'no', 'bye.NEGATE'],
          ['n1', 'refuse', 'bye.REFUSE'],
          ['n1', 'silent', 'bye.NO_REPLY'],
          ['n1', 'unrec', 'bye.UNRECOGNIZED'],
          ['n1', 'price', 'bye.CUSTOM'],
        ],
      ),
      flow(
        'f2',
        [
          normal('m1', ['流程二第一句', '流程二第二句'], [['yes', 'AFFIRM', [PresetIntentId.AFFIRM]]]),
          normal('m2', ['流程二第二个节点'], [['yes', 'AFFIRM', [PresetIntentId.AFFIRM]]]),
          jump('m.end', '流程二结束', { type: 'hangup' }, ['流程二']),
        ],
        [
          ['m1', 'yes', 'm2'],
          ['m2', 'yes', 'm.end'],
        ],
      ),
    ],
    globalConfig: quietGlobals(globals),
  };
}

/** Starts at f2's m1 (a node with only a 肯定 branch), for the modules that act where a node has no branch. */
function atM1(globals: Partial<GlobalConfig> = {}): Script {
  const s = baseScript(globals);
  s.flows = [s.flows[1]!, s.flows[0]!];
  return s;
}

// ----- a simulated runtime --------------------------------------------------------------------------------------

class Call {
  state: DialogState;
  now = T0;
  last: DialogAction[];
  readonly matcher: Matcher;
  readonly turns: DialogTurn[] = [];

  constructor(
    readonly script: Script,
    variables: Record<string, string> = { custName: '张三' },
  ) {
    this.matcher = createMatcher(script);
    const r = startDialog(script, variables, this.now);
    this.state = r.state;
    this.last = r.actions;
    this.record(r.actions);
  }

  private record(actions: DialogAction[]): void {
    for (const a of actions) if (a.type === 'turn') this.turns.push(a.turn);
  }

  step(input: DialogInput, dtMs = 1000): DialogAction[] {
    this.now += dtMs;
    const r = stepDialog(this.script, this.state, input, this.now);
    this.state = r.state;
    this.last = r.actions;
    this.record(r.actions);
    return r.actions;
  }

  /** The prompts play to the end; returns the action that follows them. */
  hear(): DialogAction | undefined {
    if (this.state.phase !== 'speaking') return undefined;
    return this.step({ kind: 'playbackDone' }, 0)[0];
  }

  reply(input: DialogInput): DialogAction[] {
    this.hear();
    return this.step(input);
  }

  say(text: string): DialogAction[] {
    this.hear();
    return this.step({ kind: 'speech', text, match: this.matcher.match(text, this.state.at) });
  }

  key(digit: string): DialogAction[] {
    return this.reply({ kind: 'dtmf', digit });
  }

  silence(): DialogAction[] {
    return this.reply({ kind: 'silence' });
  }

  /** Hear the prompts and return how the call continues (listen / hangup / transfer). */
  outcome(): DialogAction | undefined {
    return this.hear() ?? this.last.find((a) => a.type === 'listen' || a.type === 'hangup' || a.type === 'transfer');
  }
}

const texts = (actions: DialogAction[]): string[] => actions.flatMap((a) => (a.type === 'play' ? [a.text] : []));
const turnOf = (actions: DialogAction[]): DialogTurn => {
  const t = actions.find((a) => a.type === 'turn');
  if (!t || t.type !== 'turn') throw new Error('no turn');
  return t.turn;
};

// ----- tests ----------------------------------------------------------------------------------------------------

describe('startDialog', () => {
  it('greets with the entry node’s first utterance, variables filled, then listens with the configured timeout', () => {
    const call = new Call(baseScript());
    expect(texts(call.last)).toEqual(['您好张三,第一句']);
    expect(call.state.phase).toBe('speaking');
    expect(turnOf(call.last)).toMatchObject({
      input: 'start',
      next: { flowId: 'f1', nodeId: 'n1' },
      tagsAdded: ['开场'],
    });
    expect(call.hear()).toEqual({ type: 'listen', timeoutMs: 5000, deadlineMs: T0 + 1800 * 1000 });
    expect(call.state.phase).toBe('listening');
  });

  it('reports a missing variable and plays the rest', () => {
    const call = new Call(baseScript(), {});
    expect(call.last.find((a) => a.type === 'play')).toMatchObject({
      text: '您好,第一句',
      missingVariables: ['custName'],
    });
  });

  it('ends at once with deadEnd when the first flow has no entry', () => {
    const s = baseScript();
    s.flows[0]!.entryNodeId = undefined;
    const r = startDialog(s, {}, T0);
    expect(r.actions[1]).toMatchObject({ type: 'hangup', reason: 'deadEnd' });
    expect(r.state.phase).toBe('ended');
  });
});

describe('reply branches', () => {
  it.each([
    ['AFFIRM', { kind: 'speech', text: '是的' }],
    ['NEGATE', { kind: 'speech', text: '不是' }],
    ['REFUSE', { kind: 'speech', text: '我不感兴趣' }],
    ['CUSTOM', { kind: 'speech', text: '这个多少钱' }],
    ['UNRECOGNIZED', { kind: 'speech', text: '今天天气怎么样' }],
    ['NO_REPLY', { kind: 'silence' }],
  ] as const)('%s follows its edge, records the branch type and hangs up with the node’s tag', (type, input) => {
    // The 未识别 and 无回复 modules are on: a node's own lit branch takes precedence over them.
    const g = newScriptDefaults().globalConfig;
    const call = new Call(baseScript({ unrecognized: g.unrecognized, noReply: { ...g.noReply, enabled: true } }));
    const actions = input.kind === 'silence' ? call.silence() : call.say(input.text);
    expect(turnOf(actions)).toMatchObject({ branchType: type, node: { nodeId: 'n1' }, end: { kind: 'hangup' } });
    expect(texts(actions)).toEqual([`${type} 再见`]);
    expect(call.outcome()).toEqual({ type: 'hangup', reason: 'jumpNode', tags: ['开场', type] });
  });

  it('records the intent and how it matched', () => {
    const call = new Call(baseScript());
    expect(turnOf(call.say('是的'))).toMatchObject({ intentId: PresetIntentId.AFFIRM, via: 'keyword', score: 1 });
  });

  it('a DTMF key takes the branch whose intent lists it', () => {
    const call = new Call(baseScript());
    expect(turnOf(call.key('1'))).toMatchObject({ branchType: 'AFFIRM', calleeKey: '1', via: 'dtmf' });
    const other = new Call(baseScript());
    expect(turnOf(other.key('7'))).toMatchObject({ branchType: 'CUSTOM', intentId: 'i.price' });
  });

  describe('任何回复', () => {
    const anyScript = (): Script => {
      const s = baseScript();
      s.flows[0] = flow(
        'f1',
        [normal('n1', ['随便说'], [['any', 'ANY', []]]), jump('after', '收到', { type: 'hangup' }, ['any'])],
        [['n1', 'any', 'after']],
      );
      return s;
    };

    it('takes any words, a KB question included (it is exclusive of every other way out of the node)', () => {
      for (const words of ['随便说点什么', '是的', '人工']) {
        const call = new Call(anyScript());
        expect(turnOf(call.say(words))).toMatchObject({ branchType: 'ANY', via: 'any' });
      }
    });

    it('takes any key, and overrides a stale classification', () => {
      const call = new Call(anyScript());
      expect(turnOf(call.key('5'))).toMatchObject({ branchType: 'ANY' });
      const stale = new Call(anyScript());
      stale.hear();
      const actions = stale.step({
        kind: 'speech',
        text: 'x',
        match: { kind: 'kb', kbEntryId: 'kb.wait', score: 1, via: 'keyword' },
      });
      expect(turnOf(actions)).toMatchObject({ branchType: 'ANY' });
    });

    it('does not take silence: silence is no reply', () => {
      const call = new Call(anyScript());
      const actions = call.silence();
      expect(turnOf(actions).branchType).toBeUndefined();
      expect(texts(actions)).toEqual(['随便说']);
    });
  });

  it('a branch without an edge ends the call as a dead end instead of hanging', () => {
    const s = baseScript();
    s.flows[0]!.edges = s.flows[0]!.edges.filter((e) => e.branchId !== 'yes');
    const call = new Call(s);
    call.say('是的');
    expect(call.outcome()).toMatchObject({ type: 'hangup', reason: 'deadEnd' });
  });

  it('a chain of jumps that never listens is cut after MAX_JUMP_HOPS', () => {
    const s = baseScript();
    s.flows = [
      flow('a', [jump('ja', undefined, { type: 'jumpToFlow', flowId: 'b' })], []),
      flow('b', [jump('jb', undefined, { type: 'jumpToFlow', flowId: 'a' })], []),
    ];
    const r = startDialog(s, {}, T0);
    expect(r.actions).toContainEqual({ type: 'hangup', reason: 'deadEnd', tags: [] });
    expect(MAX_JUMP_HOPS).toBeGreaterThan(2);
  });
});

describe('utterance rotation', () => {
  it('re-entering a node plays its next utterance, in order, wrapping after the last', () => {
    // 未识别 with no lit branch and the module off: the node is replayed.
    const call = new Call(atM1());
    expect(texts(call.last)).toEqual(['流程二第一句']);
    expect(texts(call.say('今天天气怎么样'))).toEqual(['流程二第二句']);
    expect(texts(call.say('今天天气怎么样'))).toEqual(['流程二第一句']);
  });
});

describe('knowledge base', () => {
  it('single answer, 等待用户回复: answers, listens at the same node without replaying it, matches the next reply there', () => {
    const call = new Call(baseScript());
    const actions = call.say('你们营业时间是几点');
    expect(turnOf(actions)).toMatchObject({ kbEntryId: 'kb.wait', next: { nodeId: 'n1' } });
    expect(texts(actions)).toEqual(['我们九点上班']);
    expect(call.outcome()).toMatchObject({ type: 'listen' });
    expect(turnOf(call.say('是的'))).toMatchObject({ branchType: 'AFFIRM', node: { nodeId: 'n1' } });
  });

  it('一问多答: the n-th ask gets answer n, wrapping; the entry’s tags are attached', () => {
    const call = new Call(baseScript());
    expect(texts(call.say('地址在哪'))).toEqual(['第一个答案']);
    expect(texts(call.say('地址是哪里'))).toEqual(['第二个答案']);
    expect(texts(call.say('再说下地址'))).toEqual(['第一个答案']);
    expect(call.state.tags).toEqual(['开场', '问地址']);
    expect(call.state.counters.kbAsks['kb.multi']).toBe(3);
  });

  it('转接: transfers to the entry’s skill group', () => {
    const call = new Call(baseScript());
    expect(texts(call.say('转人工'))).toEqual(['为您转人工']);
    expect(call.outcome()).toEqual({ type: 'transfer', skillGroupId: 'sg1', reason: 'kbAnswer', tags: ['开场'] });
  });

  it('back to the robot after a transfer found no agent: the fallback flow’s entry plays, then the dialog listens', () => {
    const call = new Call(baseScript());
    call.say('转人工');
    call.outcome();
    expect(call.state.phase).toBe('ended');
    const r = resumeAfterTransfer(call.script, call.state, 'f2', call.now + 60_000);
    const turn = turnOf(r.actions);
    expect(turn).toMatchObject({ input: 'transferFailed', next: { scope: 'main', flowId: 'f2', nodeId: 'm1' } });
    expect(turn.end).toBeUndefined();
    expect(r.state).toMatchObject({ phase: 'speaking', end: null, at: { flowId: 'f2', nodeId: 'm1' } });
    expect(texts(r.actions)).toEqual(['流程二第一句']);
    // The tags the call had before the transfer stay; the dialog goes on as usual at the new node.
    call.state = r.state;
    expect(call.state.tags).toEqual(['开场']);
    expect(call.outcome()).toMatchObject({ type: 'listen' });
  });

  it('resumeAfterTransfer does nothing to a dialog that did not end in a transfer', () => {
    const call = new Call(baseScript());
    const r = resumeAfterTransfer(call.script, call.state, 'f2', call.now);
    expect(r.actions).toEqual([]);
    expect(r.state).toEqual(call.state);
  });

  it('挂机: hangs up after the answer', () => {
    const call = new Call(baseScript());
    call.say('那就再见吧');
    expect(call.outcome()).toMatchObject({ type: 'hangup', reason: 'kbAnswer' });
  });

  it('跳转回原节点: replays the node the question interrupted (its next utterance)', () => {
    const call = new Call(baseScript());
    expect(texts(call.say('回原节点'))).toEqual(['好的', '第二句']);
    expect(call.state.at).toEqual({ scope: 'main', flowId: 'f1', nodeId: 'n1' });
  });

  it('跳转回原主线流程(入口): enters the interrupted flow at its entry', () => {
    const s = atM1();
    const call = new Call(s);
    call.say('是的'); // m1 → m2
    expect(call.state.at.nodeId).toBe('m2');
    expect(texts(call.say('回入口'))).toEqual(['好的', '流程二第二句']);
    expect(call.state.at.nodeId).toBe('m1');
  });

  it('跳转至其他主线流程(入口): enters another main flow', () => {
    const call = new Call(baseScript());
    expect(texts(call.say('去别的流程'))).toEqual(['好的', '流程二第一句']);
    expect(call.state.at).toEqual({ scope: 'main', flowId: 'f2', nodeId: 'm1' });
  });

  describe('知识库流程', () => {
    it('runs the KB flow and remembers where the question was asked', () => {
      const call = new Call(baseScript());
      const actions = call.say('我想查物流');
      expect(turnOf(actions)).toMatchObject({
        kbEntryId: 'kb.flow',
        next: { scope: 'kb', flowId: 'kf1', nodeId: 'k1' },
      });
      expect(texts(actions)).toEqual(['要查物流吗']);
      expect(call.state.origin).toEqual({ scope: 'main', flowId: 'f1', nodeId: 'n1' });
    });

    it('a KB-flow jump node can transfer', () => {
      const call = new Call(baseScript());
      call.say('我想查物流');
      call.say('是的');
      expect(call.outcome()).toEqual({
        type: 'transfer',
        skillGroupId: 'sg-logistics',
        reason: 'jumpNode',
        tags: ['开场'],
      });
    });

    it('跳转回原节点 from a KB flow returns to the main-flow node', () => {
      const call = new Call(baseScript());
      call.say('我想查物流');
      expect(texts(call.say('不是'))).toEqual(['那我们继续', '第二句']);
      expect(call.state.at).toEqual({ scope: 'main', flowId: 'f1', nodeId: 'n1' });
      expect(call.state.origin).toBeNull();
    });

    it('等待用户回复 from a KB flow listens at the main-flow node without replaying it', () => {
      const call = new Call(baseScript());
      call.say('我想查物流');
      expect(texts(call.say('多少钱'))).toEqual(['好的您说']);
      expect(call.state.at).toEqual({ scope: 'main', flowId: 'f1', nodeId: 'n1' });
      expect(turnOf(call.say('不是'))).toMatchObject({ branchType: 'NEGATE', node: { nodeId: 'n1' } });
    });

    it('KB flows do not chain: a KB-flow entry asked inside a KB flow is unrecognised', () => {
      const call = new Call(baseScript());
      call.say('我想查物流');
      call.hear();
      const actions = call.step({
        kind: 'speech',
        text: '物流',
        match: { kind: 'kb', kbEntryId: 'kb.flow', score: 1, via: 'keyword' },
      });
      expect(turnOf(actions).kbEntryId).toBeUndefined();
      expect(call.state.at.flowId).toBe('kf1');
    });

    it('a single-answer entry inside a KB flow answers and keeps the way back', () => {
      const call = new Call(baseScript());
      call.say('我想查物流');
      expect(texts(call.say('营业时间呢'))).toEqual(['我们九点上班']);
      expect(call.state.at).toMatchObject({ scope: 'kb', nodeId: 'k1' });
      expect(texts(call.say('不是'))).toEqual(['那我们继续', '第二句']);
    });
  });
});

describe('global configuration', () => {
  const g = () => newScriptDefaults().globalConfig;

  it('无回复模块: the n-th consecutive silence plays step n; steps 1–2 wait at the node, step 3 hangs up', () => {
    const call = new Call(atM1({ noReply: { ...g().noReply, enabled: true } }));
    expect(texts(call.silence())).toEqual(['喂,在吗?']);
    expect(call.outcome()).toMatchObject({ type: 'listen' });
    expect(texts(call.silence())).toEqual(['喂,您好,还在吗?']);
    const third = call.silence();
    expect(turnOf(third)).toMatchObject({ module: 'noReply', end: { kind: 'hangup', reason: 'noReply' } });
    expect(texts(third)).toEqual(['亲,不好意思,我这边听不到你说话,再见。']);
    expect(call.outcome()).toMatchObject({ type: 'hangup', reason: 'noReply' });
  });

  it('无回复模块: speech ends the silent run, so the count starts again', () => {
    const call = new Call(atM1({ noReply: { ...g().noReply, enabled: true } }));
    call.silence();
    call.say('今天天气怎么样');
    expect(texts(call.silence())).toEqual(['喂,在吗?']);
  });

  it('未识别模块 (enabled by default): three unrecognised turns in a row end the call', () => {
    const call = new Call(atM1({ unrecognized: g().unrecognized }));
    expect(texts(call.say('今天天气怎么样'))).toEqual(['不好意思,可以慢点再说一遍吗?']);
    expect(texts(call.say('明天会下雨吗'))).toEqual(['不好意思,我这边听得不是很清楚,您可以再说一遍吗?']);
    call.say('后天呢');
    expect(call.outcome()).toMatchObject({ type: 'hangup', reason: 'unrecognized' });
  });

  it('未识别模块: a recognised reply restarts the count', () => {
    const call = new Call(atM1({ unrecognized: g().unrecognized }));
    call.say('今天天气怎么样');
    call.say('营业时间');
    expect(texts(call.say('明天会下雨吗'))).toEqual(['不好意思,可以慢点再说一遍吗?']);
  });

  it('重说意图: repeats the last prompt up to its threshold (2), then the request is matched like any reply', () => {
    const call = new Call(atM1({ repeat: { ...g().repeat, enabled: true }, unrecognized: g().unrecognized }));
    expect(texts(call.say('请再说一遍'))).toEqual(['好的,我再说一遍。', '流程二第一句']);
    expect(turnOf(call.last)).toMatchObject({ module: 'repeat', intentId: PresetIntentId.REPEAT });
    expect(texts(call.say('没听清'))).toEqual(['好的,我再说一遍。', '流程二第一句']);
    expect(texts(call.say('再说一遍'))).toEqual(['不好意思,可以慢点再说一遍吗?']);
    expect(call.state.counters.repeats).toBe(2);
  });

  it('重说意图 disabled: the request is unrecognised', () => {
    const call = new Call(atM1({ unrecognized: g().unrecognized }));
    expect(texts(call.say('请再说一遍'))).toEqual(['不好意思,可以慢点再说一遍吗?']);
  });

  it('打断意图: stops a prompt that does not allow barge-in, says its utterance and listens', () => {
    const s = atM1({ interrupt: { ...g().interrupt, enabled: true } });
    (s.flows[0]!.nodes[0] as NormalNode).allowInterrupt = false;
    const call = new Call(s);
    expect(call.last.find((a) => a.type === 'play')).toMatchObject({ allowInterrupt: false, detectSpeech: true });
    const actions = call.step({ kind: 'bargeIn', text: '等一下', match: call.matcher.match('等一下', call.state.at) });
    expect(actions[0]).toEqual({ type: 'stopPlayback' });
    expect(texts(actions)).toEqual(['您请说。']);
    expect(turnOf(actions)).toMatchObject({ module: 'interrupt', input: 'bargeIn' });
    expect(call.outcome()).toMatchObject({ type: 'listen' });
  });

  it('累计无回复: the 10th silent turn of the call fires the module (here it hangs up)', () => {
    const call = new Call(atM1({ cumulativeNoReply: { ...g().cumulativeNoReply, enabled: true } }));
    for (let i = 1; i <= 9; i++) {
      call.silence();
      expect(call.outcome()).toMatchObject({ type: 'listen' });
    }
    const tenth = call.silence();
    expect(turnOf(tenth)).toMatchObject({ module: 'cumulativeNoReply' });
    expect(texts(tenth)).toEqual(['不好意思,一直听不到您的声音,先不打扰您了,再见。']);
    expect(call.outcome()).toMatchObject({ type: 'hangup', reason: 'cumulativeNoReply' });
  });

  it('累计无回复 counts the whole call: speech in between does not restart it', () => {
    const call = new Call(atM1({ cumulativeNoReply: { ...g().cumulativeNoReply, enabled: true, threshold: 3 } }));
    call.silence();
    call.say('营业时间');
    call.silence();
    call.say('今天天气怎么样');
    call.silence();
    expect(call.outcome()).toMatchObject({ type: 'hangup', reason: 'cumulativeNoReply' });
  });

  it('重复问题: the 4th ask of the same question fires the module', () => {
    const call = new Call(atM1({ repeatedQuestion: { ...g().repeatedQuestion, enabled: true } }));
    for (let i = 1; i <= 3; i++) expect(texts(call.say('营业时间'))).toEqual(['我们九点上班']);
    const fourth = call.say('营业时间');
    expect(turnOf(fourth)).toMatchObject({ module: 'repeatedQuestion', kbEntryId: 'kb.wait' });
    expect(call.outcome()).toMatchObject({ type: 'hangup', reason: 'repeatedQuestion' });
  });

  it('太多问题: the 10th distinct question fires the module', () => {
    const s = atM1({ tooManyQuestions: { ...g().tooManyQuestions, enabled: true } });
    s.kbEntries = Array.from({ length: 10 }, (_, i) =>
      kbSingle(`q${i}`, `问题${'零一二三四五六七八九'[i]}`, [`答案${i}`]),
    );
    const call = new Call(s);
    for (let i = 0; i < 9; i++) {
      expect(texts(call.say(`问题${'零一二三四五六七八九'[i]}`))).toEqual([`答案${i}`]);
    }
    // Asking an earlier question again is not a new one.
    expect(texts(call.say('问题零'))).toEqual(['答案0']);
    call.say('问题九');
    expect(call.outcome()).toMatchObject({ type: 'hangup', reason: 'tooManyQuestions' });
  });

  it('累计未识别 (C6): 10 consecutive unrecognised turns fire it; a recognised reply restarts the count', () => {
    const call = new Call(atM1({ cumulativeUnrecognized: { ...g().cumulativeUnrecognized, enabled: true } }));
    for (let i = 0; i < 9; i++) call.say('今天天气怎么样');
    call.say('营业时间');
    for (let i = 0; i < 9; i++) {
      call.say('今天天气怎么样');
      expect(call.outcome()).toMatchObject({ type: 'listen' });
    }
    const tenth = call.say('今天天气怎么样');
    expect(turnOf(tenth)).toMatchObject({ module: 'cumulativeUnrecognized' });
    expect(call.outcome()).toMatchObject({ type: 'hangup', reason: 'cumulativeUnrecognized' });
  });

  it('a counter module whose action is 等待用户回复 speaks and keeps listening', () => {
    const call = new Call(
      atM1({
        cumulativeNoReply: {
          enabled: true,
          threshold: 1,
          action: { type: 'wait' },
          utterance: { id: 'x', text: '您还在吗' },
        },
      }),
    );
    expect(texts(call.silence())).toEqual(['您还在吗']);
    expect(call.outcome()).toMatchObject({ type: 'listen' });
  });

  describe('最大通话时长 (1800 s by default)', () => {
    it('the deadline input at 1800 s hangs up; before it, it does nothing', () => {
      const call = new Call(baseScript());
      call.hear();
      expect(call.step({ kind: 'deadline' }, 1000)).toEqual([]);
      const actions = call.step({ kind: 'deadline' }, 1800 * 1000);
      expect(actions).toContainEqual({ type: 'hangup', reason: 'maxDuration', tags: ['开场'] });
      expect(turnOf(actions)).toMatchObject({ module: 'maxDuration', input: 'deadline' });
      expect(call.state.phase).toBe('ended');
    });

    it('any input after the deadline hangs up, stopping a prompt that is playing', () => {
      const call = new Call(baseScript());
      const actions = call.step({ kind: 'speech', text: '是的', match: { kind: 'none', score: 0 } }, 1800 * 1000);
      expect(actions[0]).toEqual({ type: 'stopPlayback' });
      expect(actions).toContainEqual({ type: 'hangup', reason: 'maxDuration', tags: ['开场'] });
    });

    it('a configured farewell is played before the hang-up', () => {
      const call = new Call(
        baseScript({ maxDuration: { enabled: true, seconds: 60, utterance: { id: 'md', text: '通话时间到了,再见' } } }),
      );
      call.hear();
      expect(texts(call.step({ kind: 'silence' }, 60_000))).toEqual(['通话时间到了,再见']);
      expect(call.outcome()).toMatchObject({ type: 'hangup', reason: 'maxDuration' });
    });

    it('disabled: no deadline', () => {
      const call = new Call(baseScript({ maxDuration: { enabled: false, seconds: 1800 } }));
      expect(call.state.deadlineMs).toBeNull();
    });
  });
});

describe('barge-in', () => {
  it('over an interruptible prompt: playback stops and the words are handled as the reply', () => {
    const call = new Call(baseScript());
    const actions = call.step({ kind: 'bargeIn', text: '是的', match: call.matcher.match('是的', call.state.at) });
    expect(actions[0]).toEqual({ type: 'stopPlayback' });
    expect(turnOf(actions)).toMatchObject({ input: 'bargeIn', branchType: 'AFFIRM', calleeText: '是的' });
  });

  it('over a prompt that does not allow it: logged and ignored; the prompt plays on', () => {
    const s = baseScript();
    (s.flows[0]!.nodes[0] as NormalNode).allowInterrupt = false;
    const call = new Call(s);
    const actions = call.step({ kind: 'bargeIn', text: '是的', match: call.matcher.match('是的', call.state.at) });
    expect(actions).toHaveLength(1);
    expect(turnOf(actions)).toMatchObject({ bargeInIgnored: true, calleeText: '是的' });
    expect(call.state.phase).toBe('speaking');
    expect(call.hear()).toMatchObject({ type: 'listen' });
  });

  it('a key is weighed against the prompt it was pressed over, not every prompt of the step', () => {
    const demo = demoScript();
    const call = new Call(demo, { custName: '张三', shopName: '小店' });
    call.hear();
    const plays = call.step({ kind: 'dtmf', digit: '1' }).filter((a) => a.type === 'play');
    expect(plays.map((p) => p.type === 'play' && p.utteranceId)).toEqual(['toSurvey.1', 'rate.1']);
    // Over the jump node's announcement (not interruptible): ignored.
    expect(turnOf(call.step({ kind: 'dtmf', digit: '8', utteranceId: 'toSurvey.1' }))).toMatchObject({
      bargeInIgnored: true,
      calleeKey: '8',
    });
    // Over the question that allows it: the key answers it.
    const actions = call.step({ kind: 'dtmf', digit: '1', utteranceId: 'rate.1' });
    expect(actions[0]).toEqual({ type: 'stopPlayback' });
    expect(turnOf(actions)).toMatchObject({ branchId: 'sat', calleeKey: '1' });
  });

  it('never over a goodbye that ends the call', () => {
    const call = new Call(baseScript());
    call.say('不是');
    const actions = call.step({ kind: 'bargeIn', text: '是的', match: { kind: 'none', score: 0 } });
    expect(turnOf(actions).bargeInIgnored).toBe(true);
    expect(call.outcome()).toMatchObject({ type: 'hangup', reason: 'jumpNode' });
  });
});

describe('the state machine', () => {
  it('never mutates the state it is given, and its state survives a JSON round trip', () => {
    const script = baseScript();
    const first = startDialog(script, { custName: '张三' }, T0);
    const frozen = JSON.parse(JSON.stringify(first.state)) as DialogState;
    deepFreeze(frozen);
    const played = stepDialog(script, frozen, { kind: 'playbackDone' }, T0 + 1);
    const next = stepDialog(
      script,
      played.state,
      { kind: 'speech', text: '营业时间', match: { kind: 'kb', kbEntryId: 'kb.wait', score: 1, via: 'keyword' } },
      T0 + 2,
    );
    expect(JSON.parse(JSON.stringify(next.state))).toEqual(next.state);
    expect(JSON.parse(JSON.stringify(next.actions))).toEqual(next.actions);
  });

  it('is deterministic: the same inputs give the same states and actions', () => {
    const run = () => {
      const call = new Call(baseScript({ noReply: { ...newScriptDefaults().globalConfig.noReply, enabled: true } }));
      call.say('地址');
      call.silence();
      call.key('9');
      call.say('回原节点');
      return { state: call.state, turns: call.turns };
    };
    expect(run()).toEqual(run());
  });

  it('after the callee hangs up, nothing more happens', () => {
    const call = new Call(baseScript());
    const actions = call.step({ kind: 'calleeHangup' });
    expect(turnOf(actions).input).toBe('calleeHangup');
    expect(call.state.phase).toBe('ended');
    expect(call.step({ kind: 'silence' })).toEqual([]);
  });

  it('each turn names the node, what was heard, the classification, what the robot said and where it went', () => {
    const call = new Call(baseScript());
    call.say('地址');
    expect(call.turns[1]).toMatchObject({
      seq: 2,
      input: 'speech',
      node: { flowId: 'f1', nodeId: 'n1' },
      calleeText: '地址',
      kbEntryId: 'kb.multi',
      robot: [{ utteranceId: 'kb.multi.1', text: '第一个答案' }],
      next: { flowId: 'f1', nodeId: 'n1' },
      tagsAdded: ['问地址'],
    });
  });

  it('is workflow-safe: no Node, no RE2, no matcher, no clock, no randomness in the engine or what it imports', () => {
    for (const file of ['engine.ts', 'graph.ts', 'model.ts']) {
      const source = readFileSync(join(__dirname, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      expect(imports.filter((i) => !['./graph', './model'].includes(i!))).toEqual([]);
      expect(source).not.toMatch(/Date\.now|Math\.random|new Date\(|process\.|require\(/);
    }
  });
});

function deepFreeze(o: unknown): void {
  if (o && typeof o === 'object') {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
}
