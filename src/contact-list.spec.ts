import { parseContactCsv } from './contact-list';

const csv = (s: string) => Buffer.from(s, 'utf8');

describe('parseContactCsv', () => {
  it('normalises numbers, reads names, zones and variables, and drops duplicates', () => {
    const r = parseContactCsv(
      csv(
        '\ufeff用户号码,用户名称,时区,amount\n13800138000,张三,Asia/Shanghai,100\n+86 13800138000,dup,,\n13900139000,李四,,\n',
      ),
      { maxContacts: 10 },
    );
    expect(r.problems).toEqual([]);
    expect(r.duplicates).toBe(1);
    expect(r.contacts).toEqual([
      { phone: '+8613800138000', name: '张三', timezone: 'Asia/Shanghai', variables: { amount: '100' } },
      { phone: '+8613900139000', name: '李四', variables: {} },
    ]);
  });

  it('names the row, column and value of every problem and imports nothing', () => {
    const r = parseContactCsv(csv('phone,timezone,url\n12345,Mars/Base,x\n13800138000,,http://evil.example\n'), {
      maxContacts: 10,
    });
    expect(r.contacts).toEqual([]);
    expect(r.problems).toEqual([
      { field: 'phone', row: 2, value: '12345', reason: 'not a valid phone number' },
      { field: 'timezone', row: 2, value: 'Mars/Base', reason: 'not an IANA time zone' },
      { field: 'url', row: 3, value: 'http://evil.example', reason: 'links are not allowed in variable values' },
    ]);
  });

  it('rejects a list without a phone column, and one over the limit', () => {
    expect(parseContactCsv(csv('name\nx\n'), { maxContacts: 10 }).problems[0]).toMatchObject({
      field: 'header',
      row: 1,
    });
    expect(parseContactCsv(csv('phone\n13800138000\n13900139000\n'), { maxContacts: 1 }).problems[0]?.reason).toMatch(
      /limit is 1/,
    );
  });
});
