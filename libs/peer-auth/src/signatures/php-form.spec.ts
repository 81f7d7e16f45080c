import { buildPhpForm, parsePhpForm } from './php-form';

describe('parsePhpForm', () => {
  it('nests bracketed keys and appends [] values', () => {
    expect(parsePhpForm('a[b][c]=1&a[b][d]=2&list[]=x&list[]=y&plain=p')).toEqual({
      a: { b: { c: '1', d: '2' } },
      list: ['x', 'y'],
      plain: 'p',
    });
  });

  it('decodes percent and plus, encoded brackets and UTF-8', () => {
    expect(parsePhpForm('data%5BNAME%5D=%D0%98%D0%B2%D0%B0%D0%BD+%F0%9F%93%9E&q=a%2Bb+c')).toEqual({
      data: { NAME: 'Иван 📞' },
      q: 'a+b c',
    });
  });

  it('keeps invalid percent sequences literal and empty values', () => {
    expect(parsePhpForm('a=100%&b=%zz&c=&d')).toEqual({ a: '100%', b: '%zz', c: '', d: '' });
  });

  it('follows PHP for duplicates, numeric keys and mixed arrays', () => {
    expect(parsePhpForm('x=1&x=2')).toEqual({ x: '2' });
    expect(parsePhpForm('n[0]=a&n[1]=b')).toEqual({ n: ['a', 'b'] });
    expect(parsePhpForm('m[]=a&m[k]=b&m[]=c')).toEqual({ m: { 0: 'a', k: 'b', 1: 'c' } });
    expect(parsePhpForm('r[][id]=1&r[][id]=2')).toEqual({ r: [{ id: '1' }, { id: '2' }] });
  });

  it('handles odd names like PHP: unclosed bracket literal, no base name dropped, trailing text ignored', () => {
    expect(parsePhpForm('a[b=1&[x]=2&c[d]e=3')).toEqual({ 'a[b': '1', c: { d: '3' } });
  });

  it('cannot be used for prototype pollution', () => {
    const parsed = parsePhpForm('__proto__[polluted]=1&constructor[prototype][polluted]=1');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(parsed)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  it('round-trips buildPhpForm', () => {
    const value = { data: { A: '1', B: ['x', 'y'] }, flag: true, n: 5, skip: null };
    expect(buildPhpForm(value)).toBe('data%5BA%5D=1&data%5BB%5D%5B0%5D=x&data%5BB%5D%5B1%5D=y&flag=1&n=5');
    expect(parsePhpForm(buildPhpForm(value))).toEqual({ data: { A: '1', B: ['x', 'y'] }, flag: '1', n: '5' });
  });
});
