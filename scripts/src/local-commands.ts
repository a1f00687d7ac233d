/** Running the programs of this machine (pg_ctlcluster, rabbitmqctl, docker) from the scripts. */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Outcome of a command that ran to its end (a non-zero exit is not an exception here). */
export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `command args` without a shell and resolves with its exit code and output.
 * Rejects only when the program cannot be started at all or exceeds `timeoutMs` (default 60 s).
 */
export const runCommand = (
  command: string,
  args: readonly string[],
  { timeoutMs = 60_000, env = process.env }: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> =>
  new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: timeoutMs, env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          const why = error.killed ? `timed out after ${timeoutMs} ms` : error.message;
          reject(new Error(`${command} ${args.join(' ')}: ${why}`, { cause: error }));
          return;
        }
        resolve({ exitCode: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });

/** Folders searched besides PATH: the RabbitMQ and PostgreSQL tools live in sbin on Debian. */
const EXTRA_DIRECTORIES = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of an executable found on PATH (or in sbin), or undefined. */
export const findExecutable = (name: string, path = process.env.PATH ?? ''): string | undefined => {
  for (const directory of [...path.split(delimiter).filter(Boolean), ...EXTRA_DIRECTORIES]) {
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder: keep looking
    }
  }
  return undefined;
};
