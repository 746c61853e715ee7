/**
 * The registry as an operator runs it: `bin/accord-registry.js` (what `npm start` runs: the bundle
 * of src/main.ts) in a child process, with HOST=127.0.0.1 and PORT=0 (it logs the port it got as
 * pino JSON on stdout) and the given environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from '../cli/run-tool.ts';

export interface RegistryProcess {
  /** Site root on the loopback address, e.g. http://127.0.0.1:41234/ */
  url: string;
  child: ChildProcess;
  /** Everything it wrote on stdout and stderr. */
  output(): string;
  /** SIGTERM and wait for a clean exit (SIGKILL after 15 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export function startRegistryProcess(env: Record<string, string>, timeoutMs = 90_000): Promise<RegistryProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/accord-registry.js'], {
      cwd: REPO_ROOT,
      // HOST: the registry listens on the loopback address only, never on the network.
      env: { ...process.env, NODE_OPTIONS: '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let started = false;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the registry did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString('utf8');
      if (started) return;
      const m = /"port":(\d+)/.exec(out);
      if (m === null) return;
      started = true;
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${m[1]}/`,
        child,
        output: () => out,
        async stop() {
          if (child.exitCode !== null) return child.exitCode;
          child.kill('SIGTERM');
          const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
          const code = await exited;
          clearTimeout(kill);
          return code;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    void exited.then((code) => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`the registry exited with ${code} before listening:\n${out}`));
      }
    });
  });
}
