import { promptVariables, RowRules, variableNameProblem, variableValueProblem } from './rules';

describe(RowRules.name, () => {
  it('maps Chinese and English headers and builds a contact', () => {
    const sut = new RowRules(['用户号码', '用户名称', '时区', 'amount']);
    expect(sut.headerProblems).toEqual([]);
    expect(sut.check(['0086 138-0013-8000', ' 张三 ', 'Asia/Shanghai', '100'], 2)).toEqual({
      ok: true,
      contact: { phone: '+8613800138000', name: '张三', timezone: 'Asia/Shanghai', variables: { amount: '100' } },
    });
  });

  it('accepts landlines and foreign E.164 numbers, and reports every problem of a row', () => {
    const sut = new RowRules(['phone', 'name', 'timezone', 'note']);
    expect(sut.check(['010-12345678', '', '', ''], 2)).toMatchObject({ ok: true, contact: { phone: '+861012345678' } });
    expect(sut.check(['+14155552671', '', '', ''], 3)).toMatchObject({ ok: true, contact: { phone: '+14155552671' } });
    const r = sut.check(['12ab', 'x'.repeat(51), 'Mars/Base', 'see www.example.com'], 4);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.problems.map((p) => [p.field, p.row])).toEqual([
      ['phone', 4],
      ['name', 4],
      ['timezone', 4],
      ['note', 4],
    ]);
  });

  it('treats an all-blank row as blank, not as a problem', () => {
    expect(new RowRules(['phone']).check(['  '], 5)).toEqual({ ok: 'blank' });
  });

  it('rejects a header without a phone column, bad or reserved variable names, and repeated columns', () => {
    expect(new RowRules(['name']).headerProblems[0]).toMatchObject({ field: 'header', row: 1 });
    const reasons = new RowRules(['phone', '1abc', 'email', 'phone']).headerProblems.map((p) => p.field);
    expect(reasons).toEqual(['1abc', 'email', 'phone']);
  });

  it('requires the variables the prompt uses: the column, and a value in every row', () => {
    expect(new RowRules(['phone'], { requiredVariables: ['amount'] }).headerProblems[0]).toMatchObject({
      field: 'amount',
      row: 1,
    });
    const sut = new RowRules(['phone', 'amount'], { requiredVariables: ['amount'] });
    expect(sut.check(['13800138000', ''], 2)).toMatchObject({ ok: false, problems: [{ field: 'amount', row: 2 }] });
  });

  it('cuts a huge value in the report', () => {
    const r = new RowRules(['phone', 'v']).check(['13800138000', 'x'.repeat(100_000)], 2);
    expect(r.ok === false && r.problems[0]!.value!.length).toBeLessThanOrEqual(101);
  });
});

describe('variable rules (seed §9)', () => {
  it('values: fewer than 150 characters, no links', () => {
    expect(variableValueProblem('x'.repeat(149))).toBeUndefined();
    expect(variableValueProblem('x'.repeat(150))).toMatch(/149/);
    for (const link of ['http://a.b', 'HTTPS://x.y/z', 'www.taobao', '点击 t.cn/abc', 'example.com'])
      expect(variableValueProblem(link)).toMatch(/links/);
    for (const ok of ['3.5元', '7月1日', 'A.B', '第1.2期']) expect(variableValueProblem(ok)).toBeUndefined();
  });

  it('names: an English letter first, letters, digits and _, not a generic name', () => {
    expect(variableNameProblem('amount_1')).toBeUndefined();
    expect(variableNameProblem('_a')).toBeDefined();
    expect(variableNameProblem('123')).toBeDefined();
    expect(variableNameProblem('Mobile')).toMatch(/generic/);
  });

  it('finds the ${variables} of a prompt once each, in order', () => {
    expect(promptVariables('您好${name}，您的${amount}元将于${date}到期，${amount}')).toEqual([
      'name',
      'amount',
      'date',
    ]);
    expect(promptVariables(undefined)).toEqual([]);
  });
});
