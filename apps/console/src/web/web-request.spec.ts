import { field, formQuery } from './web-request';
import { formatInstant, queryString, WebViews } from './web-views';

describe('web console helpers', () => {
  it('drops empty form fields and reads datetime-local values as UTC', () => {
    expect(
      formQuery({ peer: '', from: '2026-12-07T03:00', to: '2026-12-07T04:00:30', service: 'x' }),
    ).toEqual({
      from: '2026-12-07T03:00:00Z',
      to: '2026-12-07T04:00:30Z',
      service: 'x',
    });
    // An instant with an offset is passed on as given (the API validates it).
    expect(formQuery({ from: '2026-12-07T03:00:00+03:00' })).toEqual({ from: '2026-12-07T03:00:00+03:00' });
  });

  it('reads one form field as a trimmed string, anything else as empty', () => {
    expect(field({ a: ' x ', b: ['1', '2'] }, 'a')).toBe('x');
    expect(field({ b: ['1', '2'] }, 'b')).toBe('');
    expect(field(undefined, 'a')).toBe('');
  });

  it('formats instants in UTC and builds query strings of the non-empty values', () => {
    expect(formatInstant(new Date('2026-12-07T03:41:05.123Z'))).toBe('2026-12-07 03:41:05 UTC');
    expect(formatInstant(null)).toBe('');
    expect(queryString({ a: 'x y', b: '', c: undefined, d: 2 })).toBe('?a=x+y&d=2');
    expect(queryString({})).toBe('');
  });

  it('escapes every value it renders and shows admin-only navigation to admins only', () => {
    const views = new WebViews();
    const page = (role: 'admin' | 'manager') => ({
      operator: { id: 'o', name: '<script>x</script>', role, managerId: null, via: 'session' as const },
      path: '/console/leads',
      csrfToken: 't',
    });
    const admin = views.render('pages/operators.njk', page('admin'), { title: 'T' });
    expect(admin).not.toContain('<script>x</script>');
    expect(admin).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(admin).toContain('href="/console/peers"');
    expect(admin).toMatch(/href="\/console\/leads" aria-current="page"/);
    const manager = views.render('pages/operators.njk', page('manager'), { title: 'T' });
    expect(manager).not.toContain('href="/console/peers"');
    expect(manager).not.toContain('href="/console/operators"');
    expect(manager).toContain('href="/console/leads"');
  });
});
