import { describe, expect, it } from 'vitest';
import {
  type Component,
  type ComponentProbe,
  ensureInfrastructure,
  INFRASTRUCTURE_ERROR,
  type InfrastructureProbes,
  type Reachability,
} from '../src/infrastructure.ts';
import { ensureRabbitmqPlugins, type PluginProbes } from '../src/rabbitmq-plugins.ts';

const answering: Reachability = { state: 'answering' };
const closed: Reachability = { state: 'closed', reason: 'ECONNREFUSED on 127.0.0.1:5432' };

/** A machine described by what answers, what is installed and whether Docker works; records what was done. */
const machine = (setup: {
  answering?: Component[];
  installed?: Component[];
  docker?: boolean;
  remote?: Component[];
  /** Starting does not make it answer. */
  broken?: Component[];
  refusing?: Component[];
}) => {
  const up = new Set(setup.answering ?? []);
  const actions: string[] = [];
  const component = (name: Component): ComponentProbe => ({
    displayUrl: `${name}://127.0.0.1`,
    onThisMachine: !(setup.remote ?? []).includes(name),
    reach: async () => {
      actions.push(`reach ${name}`);
      if (up.has(name)) return answering;
      if ((setup.refusing ?? []).includes(name))
        return { state: 'refusing', reason: 'password authentication failed' };
      return closed;
    },
    hasLocalBinaries: async () => (setup.installed ?? []).includes(name),
    startLocal: async () => {
      actions.push(`start local ${name}`);
      if (!(setup.broken ?? []).includes(name)) up.add(name);
    },
  });
  const probes: InfrastructureProbes = {
    postgres: component('postgres'),
    rabbitmq: component('rabbitmq'),
    dockerEngine: async () => {
      actions.push('probe docker');
      return setup.docker ? { available: true } : { available: false, reason: 'docker is not installed' };
    },
    composeUp: async (components) => {
      actions.push(`docker compose up ${components.join(' ')}`);
      for (const name of components) up.add(name);
    },
    sleep: async () => undefined,
  };
  const started = () => actions.filter((action) => !action.startsWith('reach'));
  return { probes, started };
};

const options = { startTimeoutMs: 50, refusingGraceMs: 20, pollIntervalMs: 1 };

describe('ensureInfrastructure', () => {
  it('uses PostgreSQL and RabbitMQ as they are when both answer, starting nothing', async () => {
    const { probes, started } = machine({
      answering: ['postgres', 'rabbitmq'],
      installed: ['postgres'],
      docker: true,
    });

    expect(await ensureInfrastructure(probes, options)).toEqual({
      postgres: 'already-answering',
      rabbitmq: 'already-answering',
    });
    expect(started()).toEqual([]);
  });

  it('starts the local binaries of what does not answer, and leaves Docker alone', async () => {
    const { probes, started } = machine({
      answering: ['postgres'],
      installed: ['postgres', 'rabbitmq'],
      docker: true,
    });
    const lines: string[] = [];

    const provenance = await ensureInfrastructure(probes, {
      ...options,
      report: (component, line) => lines.push(`${component}: ${line}`),
    });

    expect(provenance).toEqual({ postgres: 'already-answering', rabbitmq: 'started-local' });
    expect(started()).toEqual(['start local rabbitmq']);
    expect(lines).toContain('rabbitmq: started locally, answering at rabbitmq://127.0.0.1');
  });

  it('falls back to docker compose for the components that are not installed, and only those', async () => {
    const { probes, started } = machine({ installed: ['postgres'], docker: true });

    expect(await ensureInfrastructure(probes, options)).toEqual({
      postgres: 'started-local',
      rabbitmq: 'started-docker',
    });
    expect(started()).toEqual(['start local postgres', 'probe docker', 'docker compose up rabbitmq']);
  });

  it('stops with one message saying what to install when nothing can provide them', async () => {
    const { probes, started } = machine({});

    const failure = ensureInfrastructure(probes, options);

    await expect(failure).rejects.toMatchObject({ code: INFRASTRUCTURE_ERROR.nothingToStart });
    const message = await failure.catch((error: Error) => error.message);
    expect(message).toContain('PostgreSQL at postgres://127.0.0.1: ECONNREFUSED');
    expect(message).toContain('RabbitMQ at rabbitmq://127.0.0.1');
    expect(message).toContain('sudo apt-get install postgresql rabbitmq-server');
    expect(message).toContain('Docker Engine with the compose plugin');
    expect(message).toContain('docker is not installed');
    expect(started()).toEqual(['probe docker']);
  });

  it('names only the missing component in the install advice', async () => {
    const { probes } = machine({ answering: ['postgres'] });

    const message = await ensureInfrastructure(probes, options).catch((error: Error) => error.message);

    expect(message).toContain('sudo apt-get install rabbitmq-server');
    expect(message).not.toContain('PostgreSQL at');
  });

  it('does not try to start a server that lives on another machine', async () => {
    const { probes, started } = machine({
      answering: ['rabbitmq'],
      installed: ['postgres'],
      remote: ['postgres'],
    });

    await expect(ensureInfrastructure(probes, options)).rejects.toMatchObject({
      code: INFRASTRUCTURE_ERROR.remoteUnreachable,
      message: expect.stringContaining('fix DATABASE_URL'),
    });
    expect(started()).toEqual([]);
  });

  it('reports a port taken by something that does not answer the protocol instead of starting a second server', async () => {
    const { probes, started } = machine({
      answering: ['rabbitmq'],
      installed: ['postgres'],
      refusing: ['postgres'],
    });

    await expect(ensureInfrastructure(probes, options)).rejects.toMatchObject({
      code: INFRASTRUCTURE_ERROR.refusing,
      message: expect.stringContaining('password authentication failed'),
    });
    expect(started()).toEqual([]);
  });

  it('fails with a pointer to the log when a started server never answers', async () => {
    const { probes } = machine({ answering: ['postgres'], installed: ['rabbitmq'], broken: ['rabbitmq'] });

    await expect(ensureInfrastructure(probes, options)).rejects.toMatchObject({
      code: INFRASTRUCTURE_ERROR.startTimedOut,
      message: expect.stringContaining('/var/log/rabbitmq/'),
    });
  });
});

describe('ensureRabbitmqPlugins', () => {
  const broker = (setup: { endpoints: boolean; manageable?: boolean; enabled?: string[] }) => {
    const calls: string[] = [];
    let endpoints = setup.endpoints;
    const probes: PluginProbes = {
      endpointsAnswer: async () => endpoints,
      canManagePlugins: () => setup.manageable ?? true,
      enabledPlugins: async () => {
        calls.push('list');
        return setup.enabled ?? [];
      },
      enable: async (plugins) => {
        calls.push(`enable ${plugins.join(' ')}`);
        endpoints = true;
      },
      sleep: async () => undefined,
    };
    return { probes, calls };
  };

  it('does nothing at all when the management and Prometheus endpoints answer', async () => {
    const { probes, calls } = broker({ endpoints: true });
    expect(await ensureRabbitmqPlugins(probes)).toEqual({ state: 'already-enabled' });
    expect(calls).toEqual([]);
  });

  it('enables only the plugins that are off', async () => {
    const { probes, calls } = broker({ endpoints: false, enabled: ['rabbitmq_management'] });
    expect(await ensureRabbitmqPlugins(probes)).toEqual({
      state: 'enabled',
      plugins: ['rabbitmq_prometheus'],
    });
    expect(calls).toEqual(['list', 'enable rabbitmq_prometheus']);
  });

  it('says how to enable them on a broker it cannot manage, without failing', async () => {
    const { probes, calls } = broker({ endpoints: false, manageable: false });
    expect(await ensureRabbitmqPlugins(probes)).toEqual({
      state: 'unavailable',
      advice: expect.stringContaining('rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus'),
    });
    expect(calls).toEqual([]);
  });
});
