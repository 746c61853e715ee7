/**
 * Runs a command-line tool as a real child process, the way a user does: `node bin/accord-<tool>.js`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function binPath(tool: string): string {
  return fileURLToPath(new URL(`../../bin/accord-${tool}.js`, import.meta.url));
}

/** Runs `node bin/accord-<tool>.js ...args`; never rejects on a non-zero exit (tests assert it). */
export function runTool(
  tool: 'keygen' | 'sign' | 'verify' | 'export' | 'admin',
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath(tool), ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
