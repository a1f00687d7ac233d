/**
 * Finds the services of the repository: every workspace whose package.json declares
 * `"magasin": { "service": { name, portEnv, port, database?, main } }`. A service added later
 * joins `npm start` and the infrastructure script by declaring itself there, nothing else.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The repository root: two levels above this file (`scripts/src`). */
export const repositoryRoot = (): string => resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const serviceDeclaration = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
  portEnv: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an environment variable name in capitals'),
  port: z.number().int().min(1).max(65_535),
  database: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'lowercase letters, digits and underscores')
    .max(63)
    .optional(),
  main: z.string().min(1),
});

/** A service declared by a workspace package.json under `magasin.service`. */
export interface ServiceDeclaration {
  /** Service name, e.g. `event-store`; used as the log prefix. */
  readonly name: string;
  /** Environment variable holding the port, e.g. `EVENT_STORE_PORT`. */
  readonly portEnv: string;
  /** The design port, used when `portEnv` is not set. */
  readonly port: number;
  /** The service's own database (created by `npm run infra -- up`), if it has one. */
  readonly database: string | undefined;
  /** Entry point relative to `directory`. */
  readonly main: string;
  /** Absolute folder of the workspace. */
  readonly directory: string;
  /** Absolute path of the package.json that declared it (named in errors). */
  readonly packageJson: string;
}

/** Raised when a declaration is malformed or two services clash; the message names the file. */
export class ServiceDeclarationError extends Error {
  readonly code = 'SERVICE_DECLARATION_INVALID';
}

const readJson = (file: string): Record<string, unknown> => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new ServiceDeclarationError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
};

/**
 * Workspace folders named by the root package.json `workspaces` (entries `dir` or `dir/*`),
 * keeping only those that contain a package.json. Returns absolute paths in a stable order.
 */
export const workspaceDirectories = (rootDir: string): string[] => {
  const patterns = readJson(join(rootDir, 'package.json')).workspaces;
  if (patterns === undefined) return [];
  if (!Array.isArray(patterns)) {
    throw new ServiceDeclarationError(`${join(rootDir, 'package.json')}: "workspaces" must be an array`);
  }
  const directories: string[] = [];
  for (const pattern of patterns as string[]) {
    if (pattern.endsWith('/*')) {
      const parent = join(rootDir, pattern.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const entry of readdirSync(parent).sort()) {
        const directory = join(parent, entry);
        if (statSync(directory).isDirectory() && existsSync(join(directory, 'package.json'))) {
          directories.push(directory);
        }
      }
    } else if (pattern.includes('*')) {
      throw new ServiceDeclarationError(
        `workspace pattern "${pattern}" is not supported (use "dir" or "dir/*")`,
      );
    } else if (existsSync(join(rootDir, pattern, 'package.json'))) {
      directories.push(join(rootDir, pattern));
    }
  }
  return directories;
};

/**
 * Every service declared in the workspaces of `rootDir`, sorted by port.
 * Throws ServiceDeclarationError naming the package.json when a declaration is invalid,
 * or when two services share a name or a port.
 */
export const discoverServices = (rootDir: string): ServiceDeclaration[] => {
  const services: ServiceDeclaration[] = [];
  for (const directory of workspaceDirectories(rootDir)) {
    const packageJson = join(directory, 'package.json');
    const magasin = readJson(packageJson).magasin as { service?: unknown } | undefined;
    if (magasin?.service === undefined) continue;
    const parsed = serviceDeclaration.safeParse(magasin.service);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
      );
      throw new ServiceDeclarationError(`${packageJson}: invalid "magasin.service": ${problems.join('; ')}`);
    }
    services.push({ ...parsed.data, database: parsed.data.database, directory, packageJson });
  }
  for (const [index, service] of services.entries()) {
    const clash = services
      .slice(0, index)
      .find((other) => other.name === service.name || other.port === service.port);
    if (clash) {
      throw new ServiceDeclarationError(
        `${service.packageJson} and ${clash.packageJson} declare the same service name or port ` +
          `(${service.name}:${service.port} vs ${clash.name}:${clash.port})`,
      );
    }
  }
  return services.sort((a, b) => a.port - b.port);
};
