/**
 * What the machine and the stack's processes are doing, read from /proc (Linux): the load
 * average, the process listening on a port, CPU time and resident memory of a process, and the
 * CPU of PostgreSQL backends and of the RabbitMQ node. Benchmarks print them beside their
 * figures: on a shared 2-core machine they say which side was the limit.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** `/proc/loadavg`'s three load averages, e.g. `1.52 1.10 0.93`. */
export const loadAverage = (): string => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
};

/** CPU cores of the machine. */
export const cores = (): number => {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm)?.length ?? 0;
  } catch {
    return 0;
  }
};

/** The pid of the process listening on TCP `port` of this machine (`ss -ltnp`), if any. */
export const pidOfPort = (port: number): number | undefined => {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const match = /pid=(\d+)/.exec(out);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
};

/** The port of an `http://host:port...` URL. */
export const portOf = (url: string): number => Number(new URL(url).port);

const statFields = (pid: number): string[] | undefined => {
  try {
    // The command name may hold spaces: the fields start after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
};

/** CPU seconds (user + system) the process has used so far; undefined once it is gone. */
export const cpuSeconds = (pid: number): number | undefined => {
  const fields = statFields(pid);
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command; USER_HZ = 100.
  return fields ? (Number(fields[11]) + Number(fields[12])) / 100 : undefined;
};

/** Resident memory of the process in bytes (VmRSS); undefined once it is gone. */
export const rssBytes = (pid: number): number | undefined => {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
};

const processes = (): number[] => {
  try {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number);
  } catch {
    return [];
  }
};

const readOr = (path: string, fallback: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
};

/** Pids whose command line matches `test` (comm and cmdline given). */
export const pidsWhere = (test: (comm: string, cmdline: string) => boolean): number[] =>
  processes().filter((pid) =>
    test(readOr(`/proc/${pid}/comm`, '').trim(), readOr(`/proc/${pid}/cmdline`, '').replace(/\0/g, ' ')),
  );

/** The RabbitMQ node on this machine (Erlang's beam.smp), if it runs here. */
export const brokerPid = (): number | undefined => pidsWhere((comm) => comm === 'beam.smp')[0];

/**
 * PostgreSQL backends serving databases whose name contains `databaseNamePart`.
 */
export const postgresBackends = (databaseNamePart: string): number[] =>
  pidsWhere((comm, cmdline) => {
    if (comm !== 'postgres') return false;
    // Debian names backends `postgres: 15/main: <user> <database> <client> <state>`.
    const database = /^postgres: (?:\S+: )?\S+ (\S+) /.exec(cmdline)?.[1];
    return database?.includes(databaseNamePart) === true;
  });

/** A group of processes whose CPU is followed over a measured interval. */
export interface CpuProbe {
  readonly name: string;
  /** Pids of the group now (re-read at every sample: backends come and go). */
  pids(): number[];
}

/** CPU used by each probe between `start()` and `stop()`, in % of one core. */
export const cpuMeter = (probes: readonly CpuProbe[]) => {
  let started = 0;
  let before = new Map<string, Map<number, number>>();
  const sample = () =>
    new Map(
      probes.map((probe) => [
        probe.name,
        new Map(
          probe
            .pids()
            .map((pid) => [pid, cpuSeconds(pid)] as const)
            .filter((entry): entry is readonly [number, number] => entry[1] !== undefined),
        ),
      ]),
    );
  return {
    start() {
      started = performance.now();
      before = sample();
    },
    /** % of one core used by each probe since start(), by probe name. */
    stop(): Map<string, number> {
      const seconds = (performance.now() - started) / 1000;
      const after = sample();
      const usage = new Map<string, number>();
      for (const probe of probes) {
        const first = before.get(probe.name) ?? new Map<number, number>();
        let used = 0;
        for (const [pid, cpu] of after.get(probe.name) ?? []) used += cpu - (first.get(pid) ?? 0);
        usage.set(probe.name, Math.round((used / seconds) * 100));
      }
      return usage;
    },
  };
};

/** TCP ports the process `pid` listens on (`ss -ltnp`). */
export const portsOfPid = (pid: number): number[] => {
  try {
    const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
    return out
      .split('\n')
      .filter((line) => line.includes(`pid=${pid},`))
      .map((line) => Number(/:(\d+)$/.exec(line.trim().split(/\s+/)[3] ?? '')?.[1]))
      .filter((port) => Number.isInteger(port) && port > 0);
  } catch {
    return [];
  }
};
