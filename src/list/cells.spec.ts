import { neutraliseCell, neutraliseRow } from './cells';

describe(neutraliseCell.name, () => {
  it.each(['=1+1', '+8613800138000', '-2', '@SUM(A1)', '\t=x', '\r=x'])('prefixes %j with a quote', (v) => {
    expect(neutraliseCell(v)).toBe(`'${v}`);
  });

  it('leaves safe text, numbers and empty cells alone', () => {
    expect(neutraliseRow(['张三', 'a=b', 12, -3, '', undefined])).toEqual(['张三', 'a=b', 12, -3, '', undefined]);
  });
});
