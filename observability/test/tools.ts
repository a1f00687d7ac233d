/** Runs promtool and amtool (Debian packages `prometheus`, `prometheus-alertmanager`; `.ci/run` installs them). */
import { execFile } from 'node:child_process';
import { findBinary } from '../src/local-observability.ts';

/** Exit code and both outputs of a finished command. */
export interface ToolResult {
  code: number;
  stdout: string;
  /** stdout then stderr. */
  output: string;
}

const PACKAGES: Record<string, string> = { promtool: 'prometheus', amtool: 'prometheus-alertmanager' };

/** Runs `tool` with `args` in `cwd`; throws (with the install command) only when the tool is missing. */
export const runTool = (tool: 'promtool' | 'amtool', args: string[], cwd?: string): Promise<ToolResult> => {
  const binary = findBinary([tool]);
  if (!binary) {
    throw new Error(`${tool} is not installed: sudo apt-get install ${PACKAGES[tool]} (.ci/run installs it)`);
  }
  return new Promise((resolve) => {
    execFile(binary, args, { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, output: `${stdout}${stderr}` });
    });
  });
};
