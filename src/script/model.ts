/**
 * The robot script (话术) model of seed-spec §1: a script is its main flows, intent library, knowledge base, KB flows
 * and global configuration. Every limit the seed states is a named constant here (seed-spec §11 rows 1–18, 24);
 * limits the seed does not state are marked DERIVED. Where the seed contradicts itself the §10 DECISION is followed
 * and named (C3–C7, N8, N9).
 *
 * Types only plus plain data: this file is imported by the workflow bundle (through the dialog engine), so it must
 * stay free of I/O, Node built-ins and native modules.
 */

// ---------------------------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------------------------

/** 话术名称 ≤ 30 characters (§1.2, §11 #1). */
export const SCRIPT_NAME_MAX = 30;
/** 备注 ≤ 50 characters (§1.2, §11 #2). */
export const SCRIPT_REMARKS_MAX = 50;
/** Main-flow names: the seed states no limit. DERIVED: the same 30 as every other name in the editor. */
export const FLOW_NAME_MAX = 30;
/** 知识库流程名称 ≤ 12 characters (§1.9, §11 #10). */
export const KB_FLOW_NAME_MAX = 12;
/** Node and branch names: no limit in the seed. DERIVED: 30. */
export const NODE_NAME_MAX = 30;
/** Normal node: "至少添加1个话术,最多支持添加4个话术" (§1.4, §11 #3). */
export const NORMAL_NODE_UTTERANCES_MIN = 1;
export const NORMAL_NODE_UTTERANCES_MAX = 4;
/** Jump node: utterances optional, at most 4 (§1.6, §11 #4). */
export const JUMP_NODE_UTTERANCES_MAX = 4;
/** KB single answer: at least one; the seed gives no maximum for 一问多答. DERIVED: 4, as for nodes. */
export const KB_ANSWERS_MAX = 4;
/**
 * Utterance length. The seed shows a 0/150 counter (§7.2.2) and 20/500 (§8.2): DECISION C3 — hard limit 500, a
 * warning above 150.
 */
export const UTTERANCE_MAX = 500;
export const UTTERANCE_WARN = 150;
/** 意图名称 ≤ 30 (§1.5, §11 #7) and 知识库词条 ≤ 30 (§1.8, §11 #9). */
export const INTENT_NAME_MAX = 30;
export const KB_ENTRY_NAME_MAX = 30;
/** 用户表述: "建议单个问法长度不超过30个字" — a recommendation, so a warning (§11 #8). */
export const EXAMPLE_UTTERANCE_WARN = 30;
/** Keyword regexes: the seed sets no limit. DERIVED: 100 characters, to bound compile and match cost. */
export const KEYWORD_PATTERN_MAX = 100;
/** DERIVED: per intent / KB entry, to bound the matcher's work per turn. */
export const KEYWORDS_PER_ITEM_MAX = 50;
export const EXAMPLES_PER_ITEM_MAX = 200;
/** 话术变量实际内容 "必须小于150字符以内" — strictly fewer than 150 (§9, §11 #24). */
export const VARIABLE_VALUE_MAX = 149;
/** DERIVED: variable names are identifiers, not prose. */
export const VARIABLE_NAME_MAX = 32;
/**
 * Variable names, DECISION C4 (§9 wins over the editor's hint): letters, digits and underscore, the first character
 * an English letter (so never purely digits).
 */
export const VARIABLE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;
/** §9: "不能为email、mobile、id、nick、site等" — compared case-insensitively. */
export const RESERVED_VARIABLE_NAMES: readonly string[] = ['email', 'mobile', 'id', 'nick', 'site'];
/** Tags (标签追踪): no limits in the seed. DERIVED: 10 tags per node, 20 characters each. */
export const TAGS_PER_NODE_MAX = 10;
export const TAG_MAX = 20;
/** No-reply / unrecognised modules: three numbered utterance–action pairs (§1.10, §11 #12). */
export const STEP_MODULE_STEPS_MAX = 3;
/** 最大通话时长 1800 s (§1.10, §11 #18; DECISION C7: a module of every script, enabled). */
export const MAX_CALL_SECONDS_DEFAULT = 1800;
/** How long the robot waits for a reply before the turn is silence. The seed states none. DERIVED: 5 s. */
export const LISTEN_TIMEOUT_SECONDS_DEFAULT = 5;

// ---------------------------------------------------------------------------------------------------------------
// Script
// ---------------------------------------------------------------------------------------------------------------

/** One robot utterance (机器人话术). The id is stable across edits so dubbing (§1.11) can key audio by it. */
export interface Utterance {
  id: string;
  /** May contain `${variableName}` placeholders, filled from the contact's row at call time. */
  text: string;
}

/**
 * The seven reply branch types (§1.4). 静音 and 无回复 are one type, named 无回复 (DECISION C5).
 * 任何回复 is exclusive of the other six on a node.
 */
export const BranchType = {
  ANY: 'ANY',
  AFFIRM: 'AFFIRM',
  NEGATE: 'NEGATE',
  REFUSE: 'REFUSE',
  NO_REPLY: 'NO_REPLY',
  UNRECOGNIZED: 'UNRECOGNIZED',
  CUSTOM: 'CUSTOM',
} as const;
export type BranchType = (typeof BranchType)[keyof typeof BranchType];

/** The seed's labels; also each branch's default name. */
export const BRANCH_TYPE_LABELS: Readonly<Record<BranchType, string>> = Object.freeze({
  ANY: '任何回复',
  AFFIRM: '肯定',
  NEGATE: '否定',
  REFUSE: '拒绝',
  NO_REPLY: '无回复',
  UNRECOGNIZED: '未识别',
  CUSTOM: '自定义',
});

/**
 * Branch types matched by the callee's words, which therefore need intents. 任何回复, 无回复 and 未识别 are
 * matched by the kind of turn (any reply, silence, nothing recognised), so they take none — DERIVED: the seed's
 * "≥1 用户意图" rule cannot apply to them.
 */
export const INTENT_BRANCH_TYPES: readonly BranchType[] = ['AFFIRM', 'NEGATE', 'REFUSE', 'CUSTOM'];

/**
 * A lit (点亮) reply branch of a normal node. Grey branches are simply absent: every branch in the list is lit and
 * needs exactly one edge (§1.7).
 */
export interface ReplyBranch {
  /** Unique within its node. */
  id: string;
  type: BranchType;
  /** 分支名称; defaults to the type's label. */
  name: string;
  /** 用户意图: ids in the script's intent library; required for {@link INTENT_BRANCH_TYPES}. */
  intentIds: string[];
}

/** 分支连线: from one reply branch of a node to the next node of the same flow (§1.7). */
export interface BranchEdge {
  fromNodeId: string;
  branchId: string;
  toNodeId: string;
}

/**
 * What happens after a KB single answer, and the actions of jump nodes inside KB flows. The seed's four actions with
 * three jump-back modes are flattened into six (DECISION N8).
 */
export type PostAnswerAction =
  /** 等待用户回复: listen; the reply is matched at the node the question interrupted. */
  | { type: 'wait' }
  /** 转接: to the skill group configured in the script (§5.1). */
  | { type: 'transfer'; skillGroupId: string }
  /** 挂机. */
  | { type: 'hangup' }
  /** 跳转回原节点: replay the interrupted node (its next utterance) and listen. */
  | { type: 'returnToNode' }
  /** 跳转回原主线流程(入口): enter the interrupted main flow at its entry. */
  | { type: 'returnToFlowEntry' }
  /** 跳转至其他主线流程(入口). */
  | { type: 'jumpToFlow'; flowId: string };
export type PostAnswerActionType = PostAnswerAction['type'];
export const POST_ANSWER_ACTION_TYPES: readonly PostAnswerActionType[] = [
  'wait',
  'transfer',
  'hangup',
  'returnToNode',
  'returnToFlowEntry',
  'jumpToFlow',
];

/** 执行动作 of a jump node in a main flow: 挂机, 转接, 跳转至主线流程 (§1.6). Transfer is an action, not a node (N9). */
export type MainJumpAction = Extract<PostAnswerAction, { type: 'hangup' | 'transfer' | 'jumpToFlow' }>;
export const MAIN_JUMP_ACTION_TYPES: readonly PostAnswerActionType[] = ['hangup', 'transfer', 'jumpToFlow'];

interface NodeBase {
  /** Unique within its flow. */
  id: string;
  name: string;
  /** 标签追踪: attached to the callee when the dialog reaches the node (§1.4). */
  tags: string[];
}

/** 普通节点 (§1.4). */
export interface NormalNode extends NodeBase {
  kind: 'normal';
  /** 1–4; on re-entry in the same call the next one is played, in order (wrapping after the last — DERIVED). */
  utterances: Utterance[];
  /** 允许打断: the callee may barge in while this node plays. */
  allowInterrupt: boolean;
  branches: ReplyBranch[];
}

/** 跳转节点 (§1.6): 0–4 utterances, then its action. */
export interface JumpNode extends NodeBase {
  kind: 'jump';
  /** Played one per entry, rotating on re-entry like a normal node's (DERIVED: same editor, same rule). */
  utterances: Utterance[];
  /** In a main flow one of {@link MAIN_JUMP_ACTION_TYPES}; in a KB flow any of the six {@link PostAnswerAction}s. */
  action: PostAnswerAction;
}

export type ScriptNode = NormalNode | JumpNode;

/** A directed graph of nodes with one entry (流程起点). Main flows and KB flows share the shape (§1.9). */
export interface FlowGraph {
  id: string;
  name: string;
  /** The node the 流程起点 marker points at; absent while the flow is 未完成. */
  entryNodeId?: string;
  nodes: ScriptNode[];
  edges: BranchEdge[];
}

/** 主线流程 (§1.3). The first main flow is where every call starts. */
export type MainFlow = FlowGraph;

/** 知识库流程 (§1.9): like a main flow, but KB flows never chain into each other. */
export type KbFlow = FlowGraph;

/** 意图 (§1.5). */
export interface Intent {
  id: string;
  /** ≤ 30. */
  name: string;
  /** 关键词: each a regular expression (RE2 syntax — no backreferences or lookaround), tried before examples. */
  keywords: string[];
  /** 用户表述: example phrasings, matched by character-bigram similarity. */
  examples: string[];
  /** DERIVED (the seed has no keypad input): DTMF keys that express this intent, e.g. 1 for 肯定. */
  dtmfKeys?: string[];
  /** 系统预置的通用意图 (read-only in the editor). */
  preset?: boolean;
}

export type KbEntryType = 'business' | 'general';
export const KB_ENTRY_TYPE_LABELS: Readonly<Record<KbEntryType, string>> = Object.freeze({
  business: '业务问题',
  general: '通用问题',
});

/** 回答方式 (§1.8): 单次回答 (with 一问多答 for repeated asks) or 知识库流程. */
export type KbAnswer =
  | {
      mode: 'single';
      /** 1–{@link KB_ANSWERS_MAX}; the n-th ask in a call gets answer n (wrapping — DERIVED). */
      utterances: Utterance[];
      /** Default 等待用户回复. */
      action: PostAnswerAction;
      /** Barge-in over the answer. The seed is silent; DERIVED: allowed, a callee who asked may cut the answer short. */
      allowInterrupt?: boolean;
    }
  | { mode: 'flow'; kbFlowId: string };

/** 知识库词条 (§1.8). */
export interface KbEntry {
  id: string;
  /** 词条, ≤ 30. */
  name: string;
  type: KbEntryType;
  keywords: string[];
  examples: string[];
  /** DERIVED, as for intents. */
  dtmfKeys?: string[];
  answer: KbAnswer;
  tags?: string[];
  preset?: boolean;
}

/** What a global module does after its utterance. */
export type ModuleAction = { type: 'wait' } | { type: 'hangup' } | { type: 'transfer'; skillGroupId: string };

/** One numbered utterance–action pair of the no-reply / unrecognised modules. */
export interface ModuleStep {
  utterance: Utterance;
  action: ModuleAction;
}

/**
 * 无回复模块 / 未识别模块: trigger "某节点或知识库连续触发". The n-th consecutive trigger at the same node plays step n
 * (the last step again beyond the last); the count restarts when the callee is recognised or the dialog moves on
 * (DERIVED: the seed says nothing about resets). A node's own lit 无回复/未识别 branch takes precedence (§1.8).
 */
export interface StepModule {
  enabled: boolean;
  steps: ModuleStep[];
}

/** A module that fires once a per-call count reaches `threshold`: its utterance (if any), then its action. */
export interface CounterModule {
  enabled: boolean;
  threshold: number;
  utterance?: Utterance;
  action: ModuleAction;
}

/**
 * 重说意图: when a repeat intent is recognised the robot repeats what it just said. `threshold` (全局累计2次) is read
 * as the per-call budget of repeats — a further request is matched like any other reply — so a callee cannot loop
 * the robot (the module's stated purpose, §1.10). DERIVED: the seed gives only "全局累计2次".
 */
export interface RepeatModule {
  enabled: boolean;
  threshold: number;
  intentIds: string[];
  /** Said before the repeat, e.g. 好的,我再说一遍. */
  utterance?: Utterance;
}

/**
 * 打断意图: "识别到配置语句" — a configured phrase heard during playback stops it even where the node does not allow
 * barge-in; the robot says the module's utterance and listens.
 */
export interface InterruptModule {
  enabled: boolean;
  intentIds: string[];
  utterance?: Utterance;
}

/** 最大通话时长 (DECISION C7): in every script, enabled by default, then 挂机. */
export interface MaxDurationModule {
  enabled: boolean;
  seconds: number;
  utterance?: Utterance;
}

/** 全局配置 (§1.10), with the seed's defaults in {@link defaultGlobalConfig}. */
export interface GlobalConfig {
  /** DERIVED: the silence timeout of every listen. */
  listenTimeoutSeconds: number;
  noReply: StepModule;
  unrecognized: StepModule;
  repeat: RepeatModule;
  interrupt: InterruptModule;
  /** 累计无回复 (= 累计静音, DECISION C5): silent turns in the whole call, 全局累计10次. */
  cumulativeNoReply: CounterModule;
  /** 重复问题: the same KB question asked for the n-th time in the call, 同一问题全局累计4次. */
  repeatedQuestion: CounterModule;
  /** 太多问题: distinct KB questions asked in the call, 不同问题全局累计10次. */
  tooManyQuestions: CounterModule;
  /** 累计未识别: counts CONSECUTIVE unrecognised turns across the call (DECISION C6), 连续10次. */
  cumulativeUnrecognized: CounterModule;
  maxDuration: MaxDurationModule;
}

export type GlobalModuleKey = Exclude<keyof GlobalConfig, 'listenTimeoutSeconds'>;

/** Which review rules apply (DECISION N4): industry bans apply to marketing scenes only. */
export type SceneClass = 'marketing' | 'notification' | 'verificationCode' | 'followUp';

/** 话术 (§1.1). */
export interface Script {
  id: string;
  /** ≤ 30. */
  name: string;
  /** 所属行业 and 选择场景 (§1.2). */
  industry: string;
  scene: string;
  /** DERIVED from industry + scene by the API's scene table (N4); defaults to marketing, the strictest. */
  sceneClass?: SceneClass;
  /** ≤ 50. */
  remarks?: string;
  /** Main flows; the first is where the call starts. */
  flows: MainFlow[];
  intents: Intent[];
  kbEntries: KbEntry[];
  kbFlows: KbFlow[];
  globalConfig: GlobalConfig;
}

// ---------------------------------------------------------------------------------------------------------------
// Matching contract (shared by the matcher, which runs in an activity, and the engine, which runs in the workflow)
// ---------------------------------------------------------------------------------------------------------------

/** Where the dialog is: a node of a main flow or of a KB flow. */
export interface NodeRef {
  scope: 'main' | 'kb';
  flowId: string;
  nodeId: string;
}

export type MatchVia = 'keyword' | 'similarity' | 'any' | 'dtmf';

/**
 * How one recognised reply was classified at a node. Plain JSON: it is an activity result and so part of the
 * workflow history.
 */
export type MatchResult =
  | {
      kind: 'branch';
      branchId: string;
      branchType: BranchType;
      intentId?: string;
      score: number;
      via: MatchVia;
    }
  | { kind: 'kb'; kbEntryId: string; score: number; via: MatchVia }
  | { kind: 'global'; module: 'repeat' | 'interrupt'; intentId: string; score: number; via: MatchVia }
  | { kind: 'none'; score: number };

// ---------------------------------------------------------------------------------------------------------------
// Presets
// ---------------------------------------------------------------------------------------------------------------

/** Ids of the preset intents; stable, so branches and modules can refer to them. */
export const PresetIntentId = {
  AFFIRM: 'preset.affirm',
  NEGATE: 'preset.negate',
  REFUSE: 'preset.refuse',
  BUSY: 'preset.busy',
  ASK_WHO: 'preset.askWho',
  NOT_AT_HOME: 'preset.notAtHome',
  CALL_LATER: 'preset.callLater',
  WRONG_PERSON: 'preset.wrongPerson',
  ASK_ROBOT: 'preset.askRobot',
  REPEAT: 'preset.repeat',
  INTERRUPT: 'preset.interrupt',
} as const;

/**
 * 系统预置的通用意图: a small Chinese library. Keywords are RE2 patterns written so that a negated phrase does not
 * read as its positive (否定 patterns catch 不是/不用 before anything else can; 肯定 short answers are anchored).
 */
export const PRESET_INTENTS: readonly Intent[] = Object.freeze([
  {
    id: PresetIntentId.AFFIRM,
    name: '肯定',
    keywords: [
      '^(?:嗯+|是+|是的|是啊|是呀|对|对的|对啊|好|好的|好啊|行|可以|可以的|没问题|没错|需要|要的|有的?|在的?)[啊呀吧的呢哦嗯。！!，,~]*$',
      '(?:^|[，,。])(?:是我|我是|我就是)',
      '没问题|好的呀|可以啊|当然可以',
    ],
    examples: ['是的', '对的', '好的', '可以', '没问题', '嗯嗯', '是我', '我就是', '行啊', '需要的'],
    dtmfKeys: ['1'],
    preset: true,
  },
  {
    id: PresetIntentId.NEGATE,
    name: '否定',
    keywords: [
      '^(?:不|没|否|不是|不对|没有)[啊呀吧的呢哦。！!，,~]*$',
      '不是|不对|没有|不需要|不用了?|不要了?|不行|不可以|不太',
    ],
    examples: ['不是', '不是的', '没有', '不需要', '不用了', '不对', '不要'],
    dtmfKeys: ['2'],
    preset: true,
  },
  {
    id: PresetIntentId.REFUSE,
    name: '拒绝',
    keywords: ['不感兴趣|没兴趣|别再?打|不要再打|别烦|拉黑|投诉你|不想听|挂了'],
    examples: ['我不感兴趣', '以后别打了', '不要再给我打电话了', '别烦我', '没兴趣'],
    preset: true,
  },
  {
    id: PresetIntentId.BUSY,
    name: '在忙',
    keywords: ['在忙|正忙|很忙|开会|在上班|没空|没时间|不方便'],
    examples: ['我现在在忙', '在开会呢', '现在不方便', '没时间'],
    preset: true,
  },
  {
    id: PresetIntentId.ASK_WHO,
    name: '你是谁',
    keywords: ['你是谁|哪位|哪里打来|什么公司|哪个公司|你们是'],
    examples: ['你是谁啊', '你是哪位', '你们是哪个公司的', '哪里打来的'],
    preset: true,
  },
  {
    id: PresetIntentId.NOT_AT_HOME,
    name: '不在家',
    keywords: ['没人|不在家|出去'],
    examples: ['没有在家,现在家中没有人。', '都上班去了'],
    preset: true,
  },
  {
    id: PresetIntentId.CALL_LATER,
    name: '稍后再打',
    keywords: ['晚点|稍后|等会|待会|过会|回头再|改天|明天再'],
    examples: ['你晚点再打吧', '稍后再联系', '改天再说'],
    preset: true,
  },
  {
    id: PresetIntentId.WRONG_PERSON,
    name: '打错了',
    keywords: ['打错|不认识|不是本人|没这个人|找错人'],
    examples: ['你打错了', '我不认识这个人', '不是本人'],
    preset: true,
  },
  {
    id: PresetIntentId.ASK_ROBOT,
    name: '是不是机器人',
    keywords: ['机器人|真人|录音吗|人工智能'],
    examples: ['你是机器人吗', '你是真人吗'],
    preset: true,
  },
  {
    id: PresetIntentId.REPEAT,
    name: '重说',
    keywords: ['再说一[遍次]|重复一[遍下次]|没听清|听不清|没听到|说什么|什么意思'],
    examples: ['请再说一遍', '我没听清', '你刚才说什么', '请再说一遍,我记一下'],
    preset: true,
  },
  {
    id: PresetIntentId.INTERRUPT,
    name: '打断',
    keywords: ['打断一下|等一下|等等|先停一下|听我说'],
    examples: ['我打断一下', '等一下', '你先听我说'],
    preset: true,
  },
] satisfies Intent[]);

/** The default intent of each intent-matched branch type (the editor pre-selects it when a branch is lit). */
export const DEFAULT_BRANCH_INTENT: Readonly<Partial<Record<BranchType, string>>> = Object.freeze({
  AFFIRM: PresetIntentId.AFFIRM,
  NEGATE: PresetIntentId.NEGATE,
  REFUSE: PresetIntentId.REFUSE,
});

const wait: PostAnswerAction = { type: 'wait' };
const hangup: PostAnswerAction = { type: 'hangup' };

/**
 * The seed's six preset general KB entries (§1.8), names and answers as the dubbing list shows them. Keywords,
 * examples, the answer to 号码是哪里来的 and the actions are DERIVED (the seed shows none): 挂机 for 在开车 and 客户忙,
 * whose answers end in 再见, 等待用户回复 for the rest.
 */
export const PRESET_KB_ENTRIES: readonly KbEntry[] = Object.freeze([
  {
    id: 'preset.kb.driving',
    name: '在开车',
    type: 'general',
    keywords: ['开车|驾驶|在路上'],
    examples: ['我在开车', '正在开车呢', '开车不方便'],
    answer: {
      mode: 'single',
      utterances: [{ id: 'preset.kb.driving.1', text: '那您小心开车,先不打扰您了,再见!' }],
      action: hangup,
    },
    preset: true,
  },
  {
    id: 'preset.kb.busy',
    name: '客户忙',
    type: 'general',
    keywords: ['在忙|正忙|很忙|开会|没空'],
    examples: ['我现在很忙', '在开会', '没空'],
    answer: {
      mode: 'single',
      utterances: [{ id: 'preset.kb.busy.1', text: '那您先忙,不打扰您了,再见!' }],
      action: hangup,
    },
    preset: true,
  },
  {
    id: 'preset.kb.name',
    name: '怎么称呼',
    type: 'general',
    keywords: ['怎么称呼|贵姓|叫什么名字|你叫什么'],
    examples: ['你怎么称呼', '你贵姓', '你叫什么名字'],
    answer: {
      mode: 'single',
      utterances: [{ id: 'preset.kb.name.1', text: '我姓李,您叫我小李就可以了' }],
      action: wait,
    },
    preset: true,
  },
  {
    id: 'preset.kb.numberSource',
    name: '号码是哪里来的',
    type: 'general',
    keywords: ['号码.{0,4}(?:哪来|哪里来|怎么来|怎么知道)|怎么知道我的?(?:号码|电话)'],
    examples: ['你怎么有我的号码', '我的电话是哪里来的'],
    answer: {
      mode: 'single',
      utterances: [{ id: 'preset.kb.numberSource.1', text: '您的号码是您在我们这里登记时留下的,请您放心。' }],
      action: wait,
    },
    preset: true,
  },
  {
    id: 'preset.kb.fraud',
    name: '骗子',
    type: 'general',
    keywords: ['骗子|诈骗|骗人'],
    examples: ['你是骗子吧', '你们是诈骗电话'],
    answer: { mode: 'single', utterances: [{ id: 'preset.kb.fraud.1', text: '我们是正规的公司' }], action: wait },
    preset: true,
  },
  {
    id: 'preset.kb.teasing',
    name: '调戏机器人',
    type: 'general',
    keywords: ['美女|单身|约会|处对象|你几岁'],
    examples: ['美女你单身吗', '晚上一起吃饭吧'],
    answer: {
      mode: 'single',
      utterances: [
        {
          id: 'preset.kb.teasing.1',
          text: '非常抱歉呢,跟工作不相关的问题上班时间我们是不允许聊的,咱们还是回归到业务上来吧。',
        },
      ],
      action: wait,
    },
    preset: true,
  },
] satisfies KbEntry[]);

/**
 * The global configuration with the seed's defaults (§1.10): 无回复 disabled, 未识别 enabled, 重说 2, 累计无回复 10,
 * 重复问题 4, 太多问题 10, 累计未识别 10 (all disabled), 最大通话时长 1800 s enabled. The seed gives utterances for
 * 无回复, 未识别 only; the others' utterances and the 挂机 action of the counting modules are DERIVED (they exist to
 * end a call that has gone wrong).
 */
export function defaultGlobalConfig(): GlobalConfig {
  const u = (id: string, text: string): Utterance => ({ id: `global.${id}`, text });
  const waitStep = (id: string, text: string): ModuleStep => ({ utterance: u(id, text), action: { type: 'wait' } });
  const hangupStep = (id: string, text: string): ModuleStep => ({ utterance: u(id, text), action: { type: 'hangup' } });
  return {
    listenTimeoutSeconds: LISTEN_TIMEOUT_SECONDS_DEFAULT,
    noReply: {
      enabled: false,
      steps: [
        waitStep('noReply.1', '喂,在吗?'),
        waitStep('noReply.2', '喂,您好,还在吗?'),
        hangupStep('noReply.3', '亲,不好意思,我这边听不到你说话,再见。'),
      ],
    },
    unrecognized: {
      enabled: true,
      steps: [
        waitStep('unrecognized.1', '不好意思,可以慢点再说一遍吗?'),
        waitStep('unrecognized.2', '不好意思,我这边听得不是很清楚,您可以再说一遍吗?'),
        hangupStep('unrecognized.3', '抱歉,我这边信号不好,如有疑问请咨询客服,再见。'),
      ],
    },
    repeat: {
      enabled: false,
      threshold: 2,
      intentIds: [PresetIntentId.REPEAT],
      utterance: u('repeat', '好的,我再说一遍。'),
    },
    interrupt: { enabled: false, intentIds: [PresetIntentId.INTERRUPT], utterance: u('interrupt', '您请说。') },
    cumulativeNoReply: {
      enabled: false,
      threshold: 10,
      utterance: u('cumulativeNoReply', '不好意思,一直听不到您的声音,先不打扰您了,再见。'),
      action: { type: 'hangup' },
    },
    repeatedQuestion: {
      enabled: false,
      threshold: 4,
      utterance: u('repeatedQuestion', '这个问题已经为您解答过了,如有疑问请咨询客服,再见。'),
      action: { type: 'hangup' },
    },
    tooManyQuestions: {
      enabled: false,
      threshold: 10,
      utterance: u('tooManyQuestions', '您的问题比较多,稍后请客服为您详细解答,再见。'),
      action: { type: 'hangup' },
    },
    cumulativeUnrecognized: {
      enabled: false,
      threshold: 10,
      utterance: u('cumulativeUnrecognized', '抱歉,我这边一直听不清楚,稍后再联系您,再见。'),
      action: { type: 'hangup' },
    },
    maxDuration: { enabled: true, seconds: MAX_CALL_SECONDS_DEFAULT },
  };
}

/** A deep copy of plain data, so presets handed to a new script can be edited without touching the constants. */
function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Everything a new script starts with: the preset intents, the six preset KB entries, the default global config. */
export function newScriptDefaults(): Pick<Script, 'intents' | 'kbEntries' | 'kbFlows' | 'globalConfig'> {
  return {
    intents: clone([...PRESET_INTENTS]),
    kbEntries: clone([...PRESET_KB_ENTRIES]),
    kbFlows: [],
    globalConfig: defaultGlobalConfig(),
  };
}
