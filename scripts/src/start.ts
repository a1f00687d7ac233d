/**
 * `npm start [-- --root DIR] [--skip-infra]`: infrastructure up, the steps of startup-steps.ts,
 * every declared service under the supervisor, readiness, URLs and dev tokens. Ctrl-C (SIGINT)
 * or SIGTERM stops every service gracefully and exits 0.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createPrefixer } from './log-prefix.ts';
import { AFTER_READY, BEFORE_SERVICES, type StartupContext, type StartupStep } from './startup-steps.ts';
import { type Supervisor, startSupervisor } from './supervisor.ts';
import { createDevToken, DEV_JWT_SECRET, type Role } from './tokens.ts';
import { discoverServices, repositoryRoot } from './workspaces.ts';

/** The dev callers whose tokens are printed at start. */
const DEV_CALLERS: readonly { role: Role; sub: string }[] = [
  { role: 'customer', sub: 'alice' },
  { role: 'admin', sub: 'ada' },
  { role: 'auditor', sub: 'otto' },
];
const DEV_TOKEN_TTL = '12h';

const main = async (): Promise<number> => {
  const { values } = parseArgs({
    options: { root: { type: 'string' }, 'skip-infra': { type: 'boolean', default: false } },
  });
  const rootDir = values.root ? resolve(values.root) : repositoryRoot();
  const env = process.env;
  const services = discoverServices(rootDir);
  const prefix = createPrefixer(['supervisor', ...services.map(({ name }) => name)], {
    color: process.stdout.isTTY,
  });
  const say = (line: string) => console.log(prefix('supervisor', line));

  let stopRequested: (signal: NodeJS.Signals) => void = () => undefined;
  const stopSignal = new Promise<NodeJS.Signals>((resolveSignal) => {
    stopRequested = resolveSignal;
  });
  // Signal listeners do not keep Node running: this timer does, until a signal arrives.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  void stopSignal.then(() => clearInterval(keepAlive));
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled) {
        say(`${signal} received again: already stopping`);
        return;
      }
      signalled = true;
      stopRequested(signal);
    });
  }

  const context = (running: StartupContext['running']): Omit<StartupContext, 'print'> => ({
    rootDir,
    env,
    services,
    running,
    skipInfrastructure: values['skip-infra'],
  });
  const runSteps = async (steps: readonly StartupStep[], running: StartupContext['running']) => {
    for (const step of steps) {
      if (signalled) return;
      await step.run({ ...context(running), print: (line) => say(`${step.name}: ${line}`) });
    }
  };
  const printDevTokens = async () => {
    const secret = env.JWT_SECRET ? 'JWT_SECRET' : `the dev default JWT_SECRET "${DEV_JWT_SECRET}"`;
    say(
      `dev tokens (HS256 with ${secret}, valid ${DEV_TOKEN_TTL}; more: npm run token -- --sub bob --role customer):`,
    );
    for (const { role, sub } of DEV_CALLERS) {
      const token = await createDevToken({ sub, roles: [role], ttl: DEV_TOKEN_TTL, env });
      say(`  ${`${role} (${sub})`.padEnd(18)} ${token}`);
    }
  };

  let supervisor: Supervisor | undefined;
  try {
    await runSteps(BEFORE_SERVICES, []);
    if (services.length === 0) {
      say(
        'no services yet: nothing to start (a workspace joins by declaring "magasin.service" in its package.json)',
      );
      await printDevTokens();
      say('waiting; press Ctrl-C to stop');
      const signal = await stopSignal;
      say(`${signal} received: stopped`);
      return 0;
    }
    if (!signalled) {
      supervisor = startSupervisor({ services, env });
      const first = await Promise.race([supervisor.ready().then(() => 'ready' as const), stopSignal]);
      if (first === 'ready') {
        await runSteps(AFTER_READY, supervisor.services);
        say('Magasin is running:');
        const width = Math.max(...supervisor.services.map(({ name }) => name.length));
        for (const { name, url } of supervisor.services)
          say(`  ${name.padEnd(width)}  ${url}  (/healthz /readyz /metrics)`);
        const gateway = supervisor.services.find(({ name }) => name === 'gateway');
        if (gateway && existsSync(join(rootDir, 'web', 'dist', 'index.html'))) {
          say(
            `  ${'web app'.padEnd(width)}  ${gateway.url}/  (served by the gateway; sign in as a demo user)`,
          );
        }
        await printDevTokens();
        say('press Ctrl-C to stop');
      }
    }
    const signal = await stopSignal;
    if (supervisor) {
      say(`${signal} received: stopping ${services.length} service(s)`);
      await supervisor.stop();
    }
    say('stopped');
    return 0;
  } catch (error) {
    const { message, code } = error as Error & { code?: string };
    console.error(prefix('supervisor', `cannot start: ${message}${code ? ` [${code}]` : ''}`));
    await supervisor?.stop();
    return 1;
  }
};

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`npm start: ${error.message}`);
    process.exit(1);
  },
);
