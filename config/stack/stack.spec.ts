import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** stack.mjs is ESM and jest runs CommonJS: evaluate serverInstallPlan for every case in one child process. */
type Facts = Partial<
  Record<'urls' | 'docker' | 'postgres' | 'rabbitmq' | 'apt' | 'root' | 'sudo' | 'optOut', boolean>
>;
interface Plan {
  action: 'none' | 'install' | 'hint';
  packages: string[];
  command?: string;
  message?: string;
  steps?: string[][];
}
function plans(cases: Facts[]): Plan[] {
  const script =
    `const { serverInstallPlan } = await import(${JSON.stringify(join(__dirname, 'stack.mjs'))});` +
    `console.log(JSON.stringify(JSON.parse(process.argv[1]).map(serverInstallPlan)));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(cases)], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as Plan[];
}

const debianRoot: Facts = { apt: true, root: true, postgres: false, rabbitmq: false };

describe('serverInstallPlan (what `npm start` / `npm test` install on a fresh machine)', () => {
  it('installs nothing when URLs are given, Docker answers, or both servers are there', () => {
    expect(
      plans([
        { ...debianRoot, urls: true },
        { ...debianRoot, docker: true },
        { ...debianRoot, postgres: true, rabbitmq: true },
      ]).map((p) => p.action),
    ).toEqual(['none', 'none', 'none']);
  });

  it('as root on Debian/Ubuntu: apt-get update, then installs exactly what is missing', () => {
    const [both, rabbitOnly] = plans([debianRoot, { ...debianRoot, postgres: true }]);
    expect(both).toMatchObject({
      action: 'install',
      packages: ['postgresql', 'rabbitmq-server'],
      steps: [
        ['apt-get', 'update', '-qq'],
        ['apt-get', 'install', '-y', '--no-install-recommends', 'postgresql', 'rabbitmq-server'],
      ],
    });
    expect(rabbitOnly.steps![1]).toEqual([
      'apt-get',
      'install',
      '-y',
      '--no-install-recommends',
      'rabbitmq-server',
    ]);
  });

  it('with passwordless sudo: the same through sudo -n (never prompts)', () => {
    const [plan] = plans([{ ...debianRoot, root: false, sudo: true, rabbitmq: true }]);
    expect(plan.action).toBe('install');
    expect(plan.steps).toEqual([
      ['sudo', '-n', 'apt-get', 'update', '-qq'],
      ['sudo', '-n', 'apt-get', 'install', '-y', '--no-install-recommends', 'postgresql'],
    ]);
  });

  it('otherwise prints the one command to run', () => {
    const [noSudo, notDebian, optedOut] = plans([
      { ...debianRoot, root: false, sudo: false },
      { ...debianRoot, apt: false },
      { ...debianRoot, optOut: true },
    ]);
    expect(noSudo).toMatchObject({
      action: 'hint',
      command: 'sudo apt-get install -y --no-install-recommends postgresql rabbitmq-server',
    });
    expect(noSudo.message).toContain('or set DATABASE_URL and AMQP_URL');
    expect(notDebian).toMatchObject({
      action: 'hint',
      command: 'install postgresql and rabbitmq-server with your package manager',
    });
    expect(optedOut).toMatchObject({
      action: 'hint',
      command: 'apt-get install -y --no-install-recommends postgresql rabbitmq-server',
    });
  });
});
