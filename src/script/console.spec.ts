import { chat, ConsoleSession } from './console';
import { DEMO_SKILL_GROUP, demoScript } from './demo';

const vars = { custName: '张三', shopName: '小米商城' };

describe(chat.name, () => {
  it('walks the demo by keys through two flows and a KB flow to a tagged hang-up', () => {
    const r = chat(demoScript(), vars, [{ key: '1' }, { key: '9' }, { key: '2' }, { key: '1' }]);
    expect(r.transcript).toEqual([
      '机器人: 您好,请问您是张三吗?这里是小米商城的售后客服。是本人请按1,不是请按2。',
      '用户: [按键 1]',
      '机器人: 好的,耽误您一分钟时间。',
      '机器人: 请问您对这次购买的商品和服务满意吗?满意请按1,不满意请按2。',
      '用户: [按键 9]',
      '机器人: 物流信息需要人工为您查询,需要为您转接人工客服吗?',
      '用户: [按键 2]',
      '机器人: 好的,那我们继续。',
      '机器人: 您对这次购物满意吗?',
      '用户: [按键 1]',
      '机器人: 感谢您的支持,祝您生活愉快,再见!',
      '[挂机 jumpNode 标签: 本人,满意]',
    ]);
    expect(r.turns.map((t) => [t.node.nodeId, t.branchType ?? t.kbEntryId ?? t.input, t.next?.nodeId ?? null])).toEqual(
      [
        ['greet', 'start', 'greet'],
        ['greet', 'AFFIRM', 'rate'],
        ['rate', 'demo.kb.logistics', 'k.ask'],
        ['k.ask', 'NEGATE', 'rate'],
        ['rate', 'CUSTOM', null],
      ],
    );
    expect(r.state.phase).toBe('ended');
  });

  it('talks in words: KB answers in order on repeated asks, and a preset entry that hangs up', () => {
    const r = chat(demoScript(), vars, ['是的', '我想退货', '怎么退款啊', '我在开车']);
    expect(r.transcript.slice(4)).toEqual([
      '用户: 我想退货',
      '机器人: 支持七天无理由退货,您在订单页申请售后就可以。',
      '用户: 怎么退款啊',
      '机器人: 退货在订单页点击申请售后,选择退货退款即可。',
      '用户: 我在开车',
      '机器人: 那您小心开车,先不打扰您了,再见!',
      '[挂机 kbAnswer 标签: 本人]',
    ]);
  });

  it('the KB flow can transfer to the skill group', () => {
    const r = chat(demoScript(), vars, ['对', '快递到哪了', '好的']);
    expect(r.end).toEqual({
      kind: 'transfer',
      reason: 'jumpNode',
      skillGroupId: DEMO_SKILL_GROUP,
      tags: ['本人', '转人工'],
    });
  });

  it('stops reading inputs once the call has ended', () => {
    const r = chat(demoScript(), vars, ['不是', '还有话说']);
    expect(r.transcript.at(-1)).toBe('[挂机 jumpNode 标签: 非本人]');
    expect(r.transcript).not.toContain('用户: 还有话说');
  });
});

describe(ConsoleSession.name, () => {
  it('keeps one conversation: barge-in, silence and the maximum duration', () => {
    const session = new ConsoleSession(demoScript(), vars);
    expect(session.greeting.robot).toHaveLength(1);
    const barge = session.send({ bargeIn: '是我' });
    expect(session.lastActions[0]).toEqual({ type: 'stopPlayback' });
    expect(barge.turns[0]).toMatchObject({ input: 'bargeIn', branchType: 'AFFIRM' });
    // 未识别模块 is on by default; 无回复 is off, so silence replays the node (its next utterance).
    expect(session.send({ silence: true }).robot).toEqual(['您对这次购物满意吗?']);
    const late = session.send({ waitMs: 1800 * 1000 });
    expect(late.ended).toBe(true);
    expect(late.end).toMatchObject({ kind: 'hangup', reason: 'maxDuration' });
  });
});
