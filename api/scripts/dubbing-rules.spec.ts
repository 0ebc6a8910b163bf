import type { UtteranceDubbing } from '../../activities/mongo/script-repository';
import { sniffRecordingFormat } from '../../activities/speech/espeak-tts';
import { demoScript } from '../../src/script/demo';
import {
  duplicateUtteranceIds,
  effectiveStatus,
  reconcileDubbing,
  sceneClassOf,
  SYNTHESIS_STALE_MS,
  unvoicedProblems,
  utteranceSites,
} from './dubbing-rules';

const now = new Date('2026-01-01T00:00:00Z');
const recorded = (text: string): UtteranceDubbing => ({
  status: 'recorded',
  source: 'tts',
  media: 'sound:custom/waihu/tts-x',
  text,
  updatedAt: now,
});

describe(utteranceSites.name, () => {
  it('lists main-flow, KB and global utterances; a disabled module’s are not playable', () => {
    const sites = utteranceSites(demoScript());
    const site = (id: string) => sites.find((s) => s.utteranceId === id)!;
    expect(site('greet.1')).toMatchObject({ kind: 'main', hasVariables: true, nodeId: 'greet', playable: true });
    expect(site('demo.kb.return.2')).toMatchObject({ kind: 'kb', kbEntryId: 'demo.kb.return' });
    expect(site('k.back.1')).toMatchObject({ kind: 'kb', flowId: 'kbf.logistics', path: 'kbFlows[0].nodes[2]' });
    expect(site('global.noReply.1')).toMatchObject({ kind: 'global', playable: false });
    expect(site('global.unrecognized.3')).toMatchObject({ kind: 'global', playable: true });
    expect(duplicateUtteranceIds(sites)).toEqual([]);
  });

  it('refuses an utterance id used twice, naming the second place', () => {
    const script = demoScript();
    script.flows[1]!.nodes[0]!.utterances[1]!.id = 'greet.1';
    expect(duplicateUtteranceIds(utteranceSites(script))).toEqual([
      expect.objectContaining({ path: 'flows[1].nodes[0]', field: 'utterances[1].id', nodeId: 'rate' }),
    ]);
  });
});

describe(reconcileDubbing.name, () => {
  const sites = utteranceSites(demoScript());

  it('keeps audio of unchanged texts, drops stale audio, marks variables not needed', () => {
    const out = reconcileDubbing(
      sites,
      {
        'toSurvey.1': recorded('好的,耽误您一分钟时间。'),
        'thanks.1': recorded('an older text'),
        'greet.1': recorded('whatever'),
      },
      now,
    );
    expect(out['toSurvey.1']!.status).toBe('recorded');
    expect(out['thanks.1']).toMatchObject({ status: 'notRecorded', text: '感谢您的支持,祝您生活愉快,再见!' });
    expect(out['greet.1']!.status).toBe('notNeeded');
    expect(Object.keys(out)).toHaveLength(sites.length);
  });

  it('treats a synthesis left behind by a crash as not recorded', () => {
    const started = new Date(now.getTime() - SYNTHESIS_STALE_MS - 1);
    const live: UtteranceDubbing = { status: 'synthesising', source: 'tts', text: 't', updatedAt: now };
    expect(effectiveStatus(live, now)).toBe('synthesising');
    expect(effectiveStatus({ ...live, updatedAt: started }, now)).toBe('notRecorded');
    const out = reconcileDubbing(
      sites,
      { 'sorry.1': { ...live, text: sites.find((s) => s.utteranceId === 'sorry.1')!.text, updatedAt: started } },
      now,
    );
    expect(out['sorry.1']!.status).toBe('notRecorded');
  });

  it('requires every playable utterance without variables to be recorded before submission', () => {
    const all = Object.fromEntries(sites.map((s) => [s.utteranceId, recorded(s.text)]));
    expect(unvoicedProblems(sites, all, now)).toEqual([]);
    const missing = { ...all };
    delete missing['rate.2'];
    expect(unvoicedProblems(sites, missing, now)).toEqual([
      expect.objectContaining({ path: 'flows[1].nodes[0]', field: 'utterances[1]', value: 'rate.2', nodeId: 'rate' }),
    ]);
  });
});

describe(sceneClassOf.name, () => {
  it('reads the scene class from industry and scene (DECISION N4)', () => {
    expect(sceneClassOf('电商', '售后回访')).toBe('followUp');
    expect(sceneClassOf('物流', '服务提醒')).toBe('notification');
    expect(sceneClassOf('金融', '语音验证码')).toBe('verificationCode');
    expect(sceneClassOf('教育', '课程推广')).toBe('marketing');
  });
});

describe(sniffRecordingFormat.name, () => {
  it('knows wav and mp3 by their first bytes', () => {
    expect(sniffRecordingFormat(Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'))).toBe('wav');
    expect(sniffRecordingFormat(Buffer.from('ID3\x04\x00', 'latin1'))).toBe('mp3');
    expect(sniffRecordingFormat(Buffer.from([0xff, 0xfb, 0x90, 0x00]))).toBe('mp3');
    expect(sniffRecordingFormat(Buffer.from('OggS'))).toBeUndefined();
  });
});
