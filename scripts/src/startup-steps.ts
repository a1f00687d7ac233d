/**
 * The steps of `npm start` around the supervisor, in order. Later issues extend these lists
 * (compose the supergraph, seed the demo catalog); the supervisor itself stays as it is.
 * Migrations are not a step: each service applies its own when it starts (packages/migrator).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEV_INTERNAL_SECRET } from '@magasin/service-kit';
import { DEMO_CATALOG, seedDemoCatalog } from './demo-catalog.ts';
import { bringInfrastructureUp } from './infrastructure-setup.ts';
import type { SupervisedService } from './supervisor.ts';
import type { ServiceDeclaration } from './workspaces.ts';

const run = promisify(execFile);

/** What a step can use. */
export interface StartupContext {
  readonly rootDir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Every declared service. */
  readonly services: readonly ServiceDeclaration[];
  /** The running services with their URLs (empty before the services start). */
  readonly running: readonly SupervisedService[];
  /** Prints a line under the step's name. */
  readonly print: (line: string) => void;
  /** `--skip-infra`: the caller vouches that PostgreSQL and RabbitMQ answer. */
  readonly skipInfrastructure: boolean;
}

/** One step: a name shown as the prefix of its lines, and what it does. Throwing stops `npm start`. */
export interface StartupStep {
  readonly name: string;
  run(context: StartupContext): Promise<void>;
}

/** Before any service starts. */
export const BEFORE_SERVICES: readonly StartupStep[] = [
  {
    name: 'infrastructure',
    run: async (context) => {
      if (context.skipInfrastructure) {
        context.print('skipped (--skip-infra)');
        return;
      }
      await bringInfrastructureUp({ rootDir: context.rootDir, env: context.env, print: context.print });
    },
  },
  {
    name: 'compose supergraph',
    run: async (context) => {
      const cli = join(context.rootDir, 'gateway', 'src', 'compose-cli.ts');
      if (!existsSync(cli)) {
        context.print('no gateway: nothing to compose');
        return;
      }
      // The same command a developer runs (`npm run compose`); it fails with the composition errors.
      const { stdout } = await run(process.execPath, ['--import', 'tsx', cli], { cwd: context.rootDir });
      for (const line of stdout.trim().split('\n')) if (line) context.print(line);
    },
  },
  {
    name: 'web app',
    run: async (context) => {
      const cli = join(context.rootDir, 'web', 'build-cli.ts');
      if (!existsSync(cli)) {
        context.print('no web app: nothing to build');
        return;
      }
      // Builds web/dist (served by the gateway at /) when it is missing or older than web/src.
      try {
        const { stdout } = await run(process.execPath, ['--import', 'tsx', cli, '--if-stale'], {
          cwd: context.rootDir,
        });
        for (const line of stdout.trim().split('\n')) if (line) context.print(line);
      } catch (error) {
        // The API works without the app: say why there is none and go on.
        const { stderr, message } = error as Error & { stderr?: string };
        context.print(`${(stderr || message).trim()}; the gateway serves no web app (npm run build -w web)`);
      }
    },
  },
];

/** Once every service is ready. */
export const AFTER_READY: readonly StartupStep[] = [
  {
    name: 'seed demo catalog',
    run: async (context) => {
      const inventory = context.running.find((service) => service.name === 'inventory');
      if (!inventory) {
        context.print('no inventory service: nothing to seed');
        return;
      }
      const created = await seedDemoCatalog({
        inventoryUrl: inventory.url,
        internalSecret: context.env.INTERNAL_SECRET || DEV_INTERNAL_SECRET,
      });
      context.print(
        created > 0
          ? `created ${created} demo products (${DEMO_CATALOG.map((p) => p.sku).join(', ')})`
          : 'the catalog already has products: left as it is',
      );
    },
  },
];
