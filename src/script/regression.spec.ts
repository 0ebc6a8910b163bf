import { chat, type ConsoleInput } from './console';
import { demoScript } from './demo';
import type { DialogTurn } from './engine';
import type { Script } from './model';
import { checkRegression, replayDialog, type RecordedDialog } from './regression';

/** A call "recorded" on `script`: the turns the engine logged, at real-looking instants 3 s apart. */
function record(script: Script, inputs: ConsoleInput[], id = 'a1', stepMs = 3000): RecordedDialog {
  const turns = chat(script, {}, inputs, { startMs: 1_750_000_000_000, stepMs }).turns;
  // Through JSON, as stored: no undefined fields, keys as the document has them.
  return { id, turns: JSON.parse(JSON.stringify(turns)) as DialogTurn[] };
}

const KEYS: ConsoleInput[] = [{ key: '1' }, { key: '9' }, { key: '2' }, { key: '1' }];
const WORDS: ConsoleInput[] = ['是的', '我想退货', '怎么退款啊', '我在开车'];
/** Silence at 满意度, words over its (interruptible) re-ask, words over 不满意原因 (not interruptible: ignored). */
const MIXED: ConsoleInput[] = ['对', { silence: true }, { bargeIn: '太差了' }, { bargeIn: '等一下' }, '质量不行'];

function survey(script: Script) {
  const flow = script.flows.find((f) => f.id === 'f.survey')!;
  const rate = flow.nodes.find((n) => n.id === 'rate');
  if (rate?.kind !== 'normal') throw new Error('demo changed');
  return { flow, rate };
}

describe(replayDialog.name, () => {
  it('replays recorded walks (keys, words, silence, barge-ins, a hang-up) as the same on the same script', () => {
    const script = demoScript();
    const calls = [
      record(script, KEYS, 'keys'),
      record(script, WORDS, 'words'),
      record(script, MIXED, 'mixed'),
      record(script, ['是的', { hangup: true }], 'hangup'),
    ];
    expect(calls.map((c) => c.turns.length)).toEqual([5, 5, 6, 3]);
    expect(calls[2]!.turns[4]).toMatchObject({ input: 'bargeIn', bargeInIgnored: true });
    const report = checkRegression(demoScript(), calls);
    expect(report.calls).toEqual([
      { id: 'keys', status: 'same', turns: 5 },
      { id: 'words', status: 'same', turns: 5 },
      { id: 'mixed', status: 'same', turns: 6 },
      { id: 'hangup', status: 'same', turns: 3 },
    ]);
    expect(report).toMatchObject({ same: 4, different: 0, notReplayable: 0 });
  });

  it('a branch that now takes another intent: the first turn classified differently', () => {
    const recorded = record(demoScript(), KEYS);
    const changed = demoScript();
    const { rate } = survey(changed);
    rate.branches.find((b) => b.id === 'sat')!.intentIds = ['demo.unsatisfied'];
    rate.branches.find((b) => b.id === 'unsat')!.intentIds = ['demo.satisfied'];
    expect(replayDialog(changed, recorded)).toEqual({
      id: 'a1',
      status: 'different',
      turns: 5,
      first: {
        seq: 5,
        field: 'branchId',
        before: 'sat',
        after: 'unsat',
        heard: { input: 'dtmf', calleeKey: '1' },
        node: { scope: 'main', flowId: 'f.survey', nodeId: 'rate' },
      },
    });
  });

  it('an edge that now leads elsewhere: the turn whose next node changed', () => {
    const recorded = record(demoScript(), KEYS);
    const changed = demoScript();
    survey(changed).flow.edges.find((e) => e.branchId === 'sat')!.toNodeId = 'reason';
    const r = replayDialog(changed, recorded);
    expect(r).toMatchObject({
      status: 'different',
      first: { seq: 5, field: 'next', before: null, after: { scope: 'main', flowId: 'f.survey', nodeId: 'reason' } },
    });
  });

  it('a KB entry that no longer hears the words: the turn that now goes to another answer', () => {
    const recorded = record(demoScript(), WORDS);
    const changed = demoScript();
    const entry = changed.kbEntries.find((e) => e.id === 'demo.kb.return')!;
    entry.keywords = ['不会命中的关键词'];
    entry.examples = [];
    expect(replayDialog(changed, recorded)).toMatchObject({
      status: 'different',
      first: {
        seq: 3,
        field: 'kbEntryId',
        before: 'demo.kb.return',
        after: null,
        heard: { input: 'speech', calleeText: '我想退货' },
        node: { nodeId: 'rate' },
      },
    });
  });

  it('a changed keyword flags exactly the recorded calls whose path it alters', () => {
    const calls = [
      record(demoScript(), WORDS, 'asks-return'), // 我想退货, then 怎么退款啊: the entry's keywords
      record(demoScript(), KEYS, 'keys-only'), // presses keys: no keyword involved
      record(demoScript(), MIXED, 'mixed'), // words, none of them about returns
      record(demoScript(), ['是的', '我要退款', '满意'], 'asks-refund'), // 退款: the same keyword
    ];
    const changed = demoScript();
    changed.kbEntries.find((e) => e.id === 'demo.kb.return')!.keywords = ['退货'];
    changed.kbEntries.find((e) => e.id === 'demo.kb.return')!.examples = ['我想退货'];
    const report = checkRegression(changed, calls);
    // 退货 still hits; 退款 no longer reaches the entry: the two calls that said it, each at that turn, and no other.
    expect(report.calls.filter((r) => r.status !== 'same')).toEqual([
      expect.objectContaining({
        id: 'asks-return',
        first: expect.objectContaining({ heard: expect.objectContaining({ calleeText: '怎么退款啊' }) }),
      }),
      expect.objectContaining({
        id: 'asks-refund',
        first: expect.objectContaining({ heard: expect.objectContaining({ calleeText: '我要退款' }) }),
      }),
    ]);
  });

  it('the maximum duration: a shorter one ends the call earlier, a longer one does not end it', () => {
    const script = demoScript();
    const slow = record(script, KEYS, 'slow', 20_000);
    const shorter = demoScript();
    shorter.globalConfig.maxDuration = { ...shorter.globalConfig.maxDuration, enabled: true, seconds: 30 };
    expect(replayDialog(shorter, slow)).toMatchObject({
      status: 'different',
      first: { seq: 3, field: 'input', before: 'dtmf', after: 'deadline' },
    });

    const timedOut = record(script, [{ key: '1' }, { waitMs: script.globalConfig.maxDuration.seconds * 1000 }], 't');
    expect(timedOut.turns.at(-1)).toMatchObject({ input: 'deadline', module: 'maxDuration' });
    expect(replayDialog(demoScript(), timedOut)).toEqual({ id: 't', status: 'same', turns: 3 });
    const longer = demoScript();
    longer.globalConfig.maxDuration = { ...longer.globalConfig.maxDuration, seconds: 86_400 };
    expect(replayDialog(longer, timedOut)).toMatchObject({
      status: 'different',
      first: { seq: 3, field: 'turn', before: { input: 'deadline' }, after: null },
    });
  });

  it('a key ignored over a prompt cannot be replayed by the console: compared up to it', () => {
    const recorded = record(demoScript(), KEYS);
    const ignored: DialogTurn = { ...recorded.turns[2]!, input: 'bargeIn', bargeInIgnored: true };
    recorded.turns[2] = ignored;
    expect(replayDialog(demoScript(), recorded)).toMatchObject({ status: 'notReplayable', seq: 3 });
    // A difference before the key is still reported.
    const changed = demoScript();
    changed.flows[0]!.edges.find((e) => e.branchId === 'yes')!.toNodeId = 'refused';
    expect(replayDialog(changed, recorded)).toMatchObject({ status: 'different', first: { seq: 2, field: 'next' } });
  });

  it('a record without its start turn is not replayable', () => {
    const recorded = record(demoScript(), KEYS);
    recorded.turns.shift();
    expect(replayDialog(demoScript(), recorded)).toMatchObject({ status: 'notReplayable', reason: 'no start turn' });
  });
});
