/**
 * A full garbage collection in another Node process, for memory figures that do not count
 * garbage: SIGUSR1 opens the process's inspector (on the port of `--inspect-port`, e.g.
 * `NODE_OPTIONS=--inspect-port=0` for a random one), then `HeapProfiler.collectGarbage` and
 * `Runtime.getHeapUsage` over the DevTools protocol.
 */
import WebSocket from 'ws';
import { sleep } from './stats.ts';
import { portsOfPid } from './system.ts';

/** A connection to a process's inspector. */
export interface Inspector {
  /** Collects garbage, then answers the heap in use (bytes). */
  heapAfterGc(): Promise<number>;
  /** Samples the CPU for `ms` and answers where the busy time went (see {@link ProfileShare}). */
  profile(ms: number): Promise<Profile>;
  close(): void;
}

/**
 * A share of a process's busy CPU samples, by package (node_modules) or workspace, Node's and
 * V8's own frames counted for the package that called them.
 */
export interface ProfileShare {
  /** `prisma`, `graphql`, `magasin: subgraphs/store`, `node internals`, `garbage collector`... */
  where: string;
  /** Share of the non-idle samples, 0..1. */
  share: number;
}

/** Where a process's busy CPU went. */
export interface Profile {
  /** By package or workspace, largest first. */
  shares: ProfileShare[];
  /** The functions with the most samples of their own, largest first: `name (file:line)` and share. */
  functions: { name: string; share: number }[];
}

interface ProfileNode {
  id: number;
  hitCount?: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber?: number };
}

/** Where a profile node's own time goes: its package, workspace or V8's own work. */
const placeOf = (node: ProfileNode): string | undefined => {
  const { url, functionName } = node.callFrame;
  if (functionName === '(idle)' || functionName === '(root)') return undefined;
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)') return 'V8/native (program)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1] as string;
  const workspace = /\/((?:packages|subgraphs)\/[^/]+|[^/]+)\/src\//.exec(url);
  if (workspace) return `magasin: ${workspace[1]}`;
  return url === '' ? 'native / builtins' : 'other';
};

/** Opens the inspector of `pid` (whose own ports, `servicePorts`, are not the inspector's). */
export const openInspector = async (pid: number, servicePorts: readonly number[]): Promise<Inspector> => {
  const before = new Set(portsOfPid(pid));
  process.kill(pid, 'SIGUSR1');
  let url: string | undefined;
  for (let attempt = 0; attempt < 50 && !url; attempt++) {
    await sleep(100);
    for (const port of portsOfPid(pid)) {
      if (servicePorts.includes(port) || before.has(port)) continue;
      try {
        const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
          webSocketDebuggerUrl?: string;
        }[];
        url = targets[0]?.webSocketDebuggerUrl;
        if (url) break;
      } catch {
        // not the inspector
      }
    }
  }
  if (!url) throw new Error(`the inspector of process ${pid} did not open`);
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let id = 0;
  const pending = new Map<number, (result: Record<string, unknown>) => void>();
  socket.on('message', (raw: Buffer) => {
    const message = JSON.parse(raw.toString('utf8')) as { id?: number; result?: Record<string, unknown> };
    if (message.id !== undefined) pending.get(message.id)?.(message.result ?? {});
  });
  const call = (method: string): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      id += 1;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method }));
    });
  return {
    async heapAfterGc() {
      await call('HeapProfiler.collectGarbage');
      return Number((await call('Runtime.getHeapUsage')).usedSize);
    },
    async profile(ms) {
      await call('Profiler.enable');
      await call('Profiler.start');
      await sleep(ms);
      const { profile } = (await call('Profiler.stop')) as { profile: { nodes: ProfileNode[] } };
      await call('Profiler.disable');
      // Node's and V8's own frames count for the nearest caller in a package or workspace
      // (JSON.parse called by pg counts for pg); only what nothing of ours called stays theirs.
      const byId = new Map(profile.nodes.map((node) => [node.id, node]));
      const parents = new Map<number, number>();
      for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
      const isCode = (place: string | undefined) =>
        place !== undefined &&
        !['node internals', 'native / builtins', 'other', 'V8/native (program)'].includes(place);
      const attributed = (node: ProfileNode): string | undefined => {
        const own = placeOf(node);
        if (own === undefined || own === 'garbage collector' || isCode(own)) return own;
        for (let id = parents.get(node.id); id !== undefined; id = parents.get(id)) {
          const place = placeOf(byId.get(id) as ProfileNode);
          if (isCode(place)) return place;
        }
        return own;
      };
      const hits = new Map<string, number>();
      let busy = 0;
      for (const node of profile.nodes) {
        const place = attributed(node);
        if (!place || !node.hitCount) continue;
        busy += node.hitCount;
        hits.set(place, (hits.get(place) ?? 0) + node.hitCount);
      }
      const functions = new Map<string, number>();
      for (const node of profile.nodes) {
        const { functionName, url, lineNumber } = node.callFrame;
        if (!node.hitCount || !placeOf(node) || functionName === '(garbage collector)') continue;
        const name = `${functionName || '(anonymous)'} (${url.split('/').slice(-2).join('/')}:${(lineNumber ?? 0) + 1})`;
        functions.set(name, (functions.get(name) ?? 0) + node.hitCount);
      }
      const largest = <K>(entries: Map<K, number>) =>
        [...entries.entries()]
          .sort((a, b) => b[1] - a[1])
          .map(([key, count]) => [key, count / Math.max(1, busy)] as const);
      return {
        shares: largest(hits).map(([where, share]) => ({ where, share })),
        functions: largest(functions)
          .slice(0, 10)
          .map(([name, share]) => ({ name, share })),
      };
    },
    close: () => socket.close(),
  };
};
