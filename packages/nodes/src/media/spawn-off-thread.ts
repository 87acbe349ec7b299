import { SHARE_ENV, Worker } from 'node:worker_threads';

/** What {@link spawnOffThread} reports about one process. @internal */
export interface SpawnHandlers {
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr: (text: string) => void;
  /** The process could not be started (e.g. ENOENT). Called at most once, instead of `onClose`. */
  readonly onError: (error: Error) => void;
  /** The process ended and its output was all delivered. */
  readonly onClose: (code: number | null, signal: string | null) => void;
}

/** A process started by {@link spawnOffThread}. @internal */
export interface SpawnedProcess {
  /** Kills the process (SIGKILL); `onClose` still follows. */
  kill(): void;
}

type FromSpawner =
  | { readonly type: 'stdout'; readonly id: number; readonly chunk: Uint8Array }
  | { readonly type: 'stderr'; readonly id: number; readonly text: string }
  | { readonly type: 'error'; readonly id: number; readonly message: string; readonly code?: string }
  | {
      readonly type: 'close';
      readonly id: number;
      readonly code: number | null;
      readonly signal: string | null;
    };

/*
 * The spawner thread, as plain CommonJS so that it runs the same under tsx, Vitest and the built
 * package (no loader needed). It starts each process, forwards its output in order, and kills it
 * on request.
 */
const SPAWNER_SOURCE = `
const { spawn } = require('node:child_process');
const { setPriority } = require('node:os');
const { parentPort } = require('node:worker_threads');
const children = new Map();
parentPort.on('message', (message) => {
  if (message.type === 'kill') {
    children.get(message.id)?.kill('SIGKILL');
    return;
  }
  const id = message.id;
  let child;
  try {
    child = spawn(message.binary, message.args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  } catch (error) {
    parentPort.postMessage({ type: 'error', id, message: String(error && error.message), code: error && error.code });
    return;
  }
  children.set(id, child);
  if (message.priority !== undefined && child.pid !== undefined) {
    // Right after the start, before the program has loaded: its threads inherit it. Best effort:
    // a process that cannot be lowered (it has already exited) runs at this process's priority.
    try {
      setPriority(child.pid, message.priority);
    } catch {}
  }
  child.stdout.on('data', (chunk) => parentPort.postMessage({ type: 'stdout', id, chunk }));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => parentPort.postMessage({ type: 'stderr', id, text }));
  child.on('error', (error) => {
    children.delete(id);
    parentPort.postMessage({ type: 'error', id, message: String(error.message), code: error.code });
  });
  child.on('close', (code, signal) => {
    children.delete(id);
    parentPort.postMessage({ type: 'close', id, code, signal });
  });
});
`;

let spawner: Worker | undefined;
const running = new Map<number, SpawnHandlers>();
let nextId = 1;

/**
 * Starts `binary` with `args` (no shell, stdin ignored) from a helper thread and reports its
 * output through `handlers`. Forking copies the parent's page tables: in a server with a few
 * hundred MB resident that blocks the calling thread for several milliseconds per process, so
 * the event loop of the process that runs workflows never pays it. One thread serves the whole
 * process; it keeps the process alive only while a process it started runs. With `priority` the
 * process gets that niceness (`os.setPriority`) as soon as it has started. @internal
 */
export function spawnOffThread(
  binary: string,
  args: readonly string[],
  handlers: SpawnHandlers,
  options: { readonly priority?: number | undefined } = {},
): SpawnedProcess {
  const worker = currentSpawner();
  const id = nextId++;
  running.set(id, handlers);
  if (running.size === 1) worker.ref();
  worker.postMessage({ type: 'spawn', id, binary, args, priority: options.priority });
  return { kill: () => worker.postMessage({ type: 'kill', id }) };
}

function currentSpawner(): Worker {
  if (spawner !== undefined) return spawner;
  // No loader flags (`--import tsx`, conditions): the thread runs plain CommonJS.
  const worker = new Worker(SPAWNER_SOURCE, {
    eval: true,
    env: SHARE_ENV,
    execArgv: [],
    name: 'vidgenie-spawner',
  });
  worker.on('message', (message: FromSpawner) => {
    const handlers = running.get(message.id);
    if (handlers === undefined) return;
    switch (message.type) {
      case 'stdout':
        handlers.onStdout(
          Buffer.from(message.chunk.buffer, message.chunk.byteOffset, message.chunk.byteLength),
        );
        return;
      case 'stderr':
        handlers.onStderr(message.text);
        return;
      case 'error': {
        settle(worker, message.id);
        const error = new Error(message.message) as NodeJS.ErrnoException;
        if (message.code !== undefined) error.code = message.code;
        handlers.onError(error);
        return;
      }
      case 'close':
        settle(worker, message.id);
        handlers.onClose(message.code, message.signal);
        return;
    }
  });
  const fail = (reason: string) => {
    if (spawner === worker) spawner = undefined;
    const lost = [...running];
    running.clear();
    for (const [, handlers] of lost) handlers.onError(new Error(`the process spawner thread ${reason}`));
  };
  worker.on('error', (error) => fail(`failed: ${error.message}`));
  worker.on('exit', (code) => fail(`exited (${code})`));
  worker.unref();
  spawner = worker;
  return worker;
}

function settle(worker: Worker, id: number): void {
  running.delete(id);
  if (running.size === 0) worker.unref();
}
