/**
 * A small complete script (电商 / 售后回访, a follow-up scene): two main flows, a business KB entry with two answers,
 * a KB flow and the preset entries. It walks with keys alone (1 = satisfied / yes, 2 = not, 9 = the logistics KB
 * flow), so the end-to-end call on Asterisk can drive it from sipp, and it is the text console's default script.
 *
 * Walk: greeting → 1 (本人) → the survey flow → 9 (物流, KB flow) → 2 (back to the question) → 1 → thanks and
 * hang up with the tags 本人 and 满意.
 */
import { newScriptDefaults, PresetIntentId, type Script } from './model';

export const DEMO_SKILL_GROUP = 'sg.service';

export function demoScript(): Script {
  const defaults = newScriptDefaults();
  return {
    id: 'demo.followUp',
    name: '售后满意度回访',
    industry: '电商',
    scene: '售后回访',
    sceneClass: 'followUp',
    remarks: '演示话术:按键即可走完',
    ...defaults,
    intents: [
      ...defaults.intents,
      {
        id: 'demo.unsatisfied',
        name: '不满意',
        keywords: ['不满意|太差|很差|不好用|失望'],
        examples: ['不太满意', '质量太差了'],
        dtmfKeys: ['2'],
      },
      {
        id: 'demo.satisfied',
        name: '满意',
        keywords: ['满意|挺好|不错|很好|还行'],
        examples: ['挺满意的', '东西很好'],
        dtmfKeys: ['1'],
      },
    ],
    kbEntries: [
      ...defaults.kbEntries,
      {
        id: 'demo.kb.return',
        name: '怎么退货',
        type: 'business',
        keywords: ['退货|退款|退换'],
        examples: ['我想退货', '怎么申请退款'],
        dtmfKeys: ['8'],
        answer: {
          mode: 'single',
          utterances: [
            { id: 'demo.kb.return.1', text: '支持七天无理由退货,您在订单页申请售后就可以。' },
            { id: 'demo.kb.return.2', text: '退货在订单页点击申请售后,选择退货退款即可。' },
          ],
          action: { type: 'wait' },
        },
      },
      {
        id: 'demo.kb.logistics',
        name: '物流查询',
        type: 'business',
        keywords: ['物流|快递|到哪了|发货'],
        examples: ['我的快递到哪了', '什么时候发货'],
        dtmfKeys: ['9'],
        answer: { mode: 'flow', kbFlowId: 'kbf.logistics' },
      },
    ],
    kbFlows: [
      {
        id: 'kbf.logistics',
        name: '物流查询',
        entryNodeId: 'k.ask',
        nodes: [
          {
            kind: 'normal',
            id: 'k.ask',
            name: '是否转人工',
            utterances: [{ id: 'k.ask.1', text: '物流信息需要人工为您查询,需要为您转接人工客服吗?' }],
            allowInterrupt: true,
            tags: [],
            branches: [
              { id: 'yes', type: 'AFFIRM', name: '肯定', intentIds: [PresetIntentId.AFFIRM] },
              { id: 'no', type: 'NEGATE', name: '否定', intentIds: [PresetIntentId.NEGATE] },
            ],
          },
          {
            kind: 'jump',
            id: 'k.transfer',
            name: '转人工',
            utterances: [{ id: 'k.transfer.1', text: '好的,正在为您转接人工客服,请稍候。' }],
            tags: ['转人工'],
            action: { type: 'transfer', skillGroupId: DEMO_SKILL_GROUP },
          },
          {
            kind: 'jump',
            id: 'k.back',
            name: '回到原节点',
            utterances: [{ id: 'k.back.1', text: '好的,那我们继续。' }],
            tags: [],
            action: { type: 'returnToNode' },
          },
        ],
        edges: [
          { fromNodeId: 'k.ask', branchId: 'yes', toNodeId: 'k.transfer' },
          { fromNodeId: 'k.ask', branchId: 'no', toNodeId: 'k.back' },
        ],
      },
    ],
    flows: [
      {
        id: 'f.open',
        name: '开场白',
        entryNodeId: 'greet',
        nodes: [
          {
            kind: 'normal',
            id: 'greet',
            name: '确认身份',
            utterances: [
              {
                id: 'greet.1',
                text: '您好,请问您是${custName}吗?这里是${shopName}的售后客服。是本人请按1,不是请按2。',
              },
              { id: 'greet.2', text: '请问您是${custName}本人吗?' },
            ],
            allowInterrupt: true,
            tags: [],
            branches: [
              { id: 'yes', type: 'AFFIRM', name: '肯定', intentIds: [PresetIntentId.AFFIRM] },
              { id: 'no', type: 'NEGATE', name: '否定', intentIds: [PresetIntentId.NEGATE] },
              { id: 'refuse', type: 'REFUSE', name: '拒绝', intentIds: [PresetIntentId.REFUSE] },
            ],
          },
          {
            kind: 'jump',
            id: 'toSurvey',
            name: '进入回访',
            utterances: [{ id: 'toSurvey.1', text: '好的,耽误您一分钟时间。' }],
            tags: ['本人'],
            action: { type: 'jumpToFlow', flowId: 'f.survey' },
          },
          {
            kind: 'jump',
            id: 'wrongPerson',
            name: '非本人',
            utterances: [{ id: 'wrongPerson.1', text: '不好意思打扰您了,再见。' }],
            tags: ['非本人'],
            action: { type: 'hangup' },
          },
          {
            kind: 'jump',
            id: 'refused',
            name: '拒绝',
            utterances: [{ id: 'refused.1', text: '好的,不打扰您了,再见。' }],
            tags: ['拒绝'],
            action: { type: 'hangup' },
          },
        ],
        edges: [
          { fromNodeId: 'greet', branchId: 'yes', toNodeId: 'toSurvey' },
          { fromNodeId: 'greet', branchId: 'no', toNodeId: 'wrongPerson' },
          { fromNodeId: 'greet', branchId: 'refuse', toNodeId: 'refused' },
        ],
      },
      {
        id: 'f.survey',
        name: '满意度调查',
        entryNodeId: 'rate',
        nodes: [
          {
            kind: 'normal',
            id: 'rate',
            name: '满意度',
            utterances: [
              { id: 'rate.1', text: '请问您对这次购买的商品和服务满意吗?满意请按1,不满意请按2。' },
              { id: 'rate.2', text: '您对这次购物满意吗?' },
            ],
            allowInterrupt: true,
            tags: [],
            // 不满意 before 满意: the keyword 满意 is inside 不满意, and the first branch whose keyword hits wins.
            branches: [
              { id: 'unsat', type: 'CUSTOM', name: '不满意', intentIds: ['demo.unsatisfied'] },
              { id: 'sat', type: 'CUSTOM', name: '满意', intentIds: ['demo.satisfied'] },
            ],
          },
          {
            kind: 'normal',
            id: 'reason',
            name: '不满意原因',
            utterances: [{ id: 'reason.1', text: '非常抱歉,请问主要是哪方面让您不满意呢?' }],
            allowInterrupt: false,
            tags: ['不满意'],
            branches: [{ id: 'any', type: 'ANY', name: '任何回复', intentIds: [] }],
          },
          {
            kind: 'jump',
            id: 'sorry',
            name: '记录意见',
            utterances: [{ id: 'sorry.1', text: '您的意见已经记录,稍后会有专人联系您,再见。' }],
            tags: [],
            action: { type: 'hangup' },
          },
          {
            kind: 'jump',
            id: 'thanks',
            name: '感谢',
            utterances: [{ id: 'thanks.1', text: '感谢您的支持,祝您生活愉快,再见!' }],
            tags: ['满意'],
            action: { type: 'hangup' },
          },
        ],
        edges: [
          { fromNodeId: 'rate', branchId: 'unsat', toNodeId: 'reason' },
          { fromNodeId: 'rate', branchId: 'sat', toNodeId: 'thanks' },
          { fromNodeId: 'reason', branchId: 'any', toNodeId: 'sorry' },
        ],
      },
    ],
  };
}
