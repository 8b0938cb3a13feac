// Debian's nginx as a traced target: a master that binds and listens, then forks worker processes
// that inherit the listening sockets (with `reuseport`, one socket per worker instead of one
// shared by all). Started with its own prefix, config, pid file and error log in a temp folder,
// in the foreground, so that stop() ends it and the folder goes with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface NginxOptions {
  /** Loopback port to listen on. */
  port: number;
  /** Worker processes (default 2). */
  workers?: number;
  /** `listen … reuseport`: the master makes one SO_REUSEPORT socket per worker. */
  reusePort?: boolean;
  readyTimeoutMs?: number;
}

export interface Nginx {
  /** The master's pid. */
  pid: number;
  port: number;
  child: ChildProcess;
  /** Connections made to see that it accepts (each one an accept of a worker). */
  readinessConnections: number;
  /** Pids of the master's children (the workers) right now. */
  workerPids(): number[];
  stop(): Promise<void>;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The comm in parentheses may hold spaces: fields start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // the process is gone
    }
  }
  return out;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const workers = options.workers ?? 2;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-nginx-'));
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      'daemon off;',
      'master_process on;',
      `worker_processes ${workers};`,
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log;`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${dir}/body;`,
      `  proxy_temp_path ${dir}/proxy;`,
      `  fastcgi_temp_path ${dir}/fastcgi;`,
      `  uwsgi_temp_path ${dir}/uwsgi;`,
      `  scgi_temp_path ${dir}/scgi;`,
      '  server {',
      `    listen 127.0.0.1:${options.port}${options.reusePort ? ' reuseport' : ''};`,
      '    location / { return 200 "ok\\n"; }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn('nginx', ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4096)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGQUIT would wait for connections; SIGTERM is nginx's fast shutdown.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', () => child.kill('SIGKILL'));
  const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
  let readinessConnections = 0;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`nginx exited at start: ${stderr}`);
    }
    if (childrenOf(child.pid!).length >= workers && (await accepts(options.port))) {
      readinessConnections++;
      break;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not come up on port ${options.port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid!,
    port: options.port,
    child,
    readinessConnections,
    workerPids: () => childrenOf(child.pid!),
    stop,
  };
}
