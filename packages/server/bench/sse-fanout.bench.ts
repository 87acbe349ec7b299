/**
 * Event-stream fan-out: the time to write one event to N open Server-Sent Events streams, as when
 * one insert's events are published to hundreds of followers at once. Three servers in this one
 * process launch, each with N real HTTP clients on loopback: Hono's `streamSSE`, the one stream
 * the run events route writes to (`createEventStreamBody`), and Node's response written directly
 * (the floor). Each round writes one event to every stream and waits for the writes to reach the
 * sockets (microtasks and the HTTP layer's uncork run before the next macrotask).
 *
 * Env: BENCH_SSE_STREAMS (default 300), BENCH_SSE_ROUNDS (default 30).
 * Run: `cd packages/server && npx tsx --conditions=@vidgenie/source bench/sse-fanout.bench.ts`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { createEventStreamBody } from '../src/http/event-stream-body.ts';

const STREAMS = Number(process.env.BENCH_SSE_STREAMS ?? 300);
const ROUNDS = Number(process.env.BENCH_SSE_ROUNDS ?? 30);
const EVENT = `event: node.progress\ndata: ${JSON.stringify({
  type: 'node.progress',
  runId: 'run_abcdefghijklmnopqrstuv',
  seq: 12,
  at: 1_795_000_000_000,
  nodeId: 'video',
  fraction: 0.5,
  message: 'Runway task running',
})}\nid: 12\n\n`;

type Write = (chunk: string) => unknown;
interface Variant {
  readonly name: string;
  /** Starts a server whose every `/events` request registers a writer. */
  readonly start: (writers: Write[]) => Promise<{ port: number; close: () => void }>;
}

const honoServer = (app: Hono) =>
  new Promise<{ port: number; close: () => void }>((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve({ port: info.port, close: () => server.close() }),
    );
  });

const variants: Variant[] = [
  {
    name: "Hono's streamSSE",
    start: (writers) => {
      const app = new Hono();
      app.get('/events', (c) =>
        streamSSE(c, async (stream) => {
          writers.push((chunk) => stream.write(chunk));
          await new Promise<void>((resolve) => stream.onAbort(resolve));
        }),
      );
      return honoServer(app);
    },
  },
  {
    name: 'createEventStreamBody',
    start: (writers) => {
      const app = new Hono();
      app.get('/events', (c) => {
        const stream = createEventStreamBody();
        writers.push((chunk) => stream.write(chunk));
        c.header('Content-Type', 'text/event-stream');
        return c.body(stream.body);
      });
      return honoServer(app);
    },
  },
  {
    name: "Node's response directly (floor)",
    start: (writers) =>
      new Promise((resolve) => {
        const server = http.createServer((_req, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.flushHeaders();
          writers.push((chunk) => res.write(chunk));
        });
        server.listen(0, '127.0.0.1', () =>
          resolve({ port: (server.address() as AddressInfo).port, close: () => server.close() }),
        );
      }),
  },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function measure(variant: Variant): Promise<number> {
  const writers: Write[] = [];
  const server = await variant.start(writers);
  const requests: http.ClientRequest[] = [];
  await new Promise<void>((resolve) => {
    let open = 0;
    for (let i = 0; i < STREAMS; i++) {
      const request = http.get(
        { host: '127.0.0.1', port: server.port, path: '/events', agent: false },
        (res) => {
          res.resume();
          if (++open === STREAMS) resolve();
        },
      );
      request.on('error', () => {});
      requests.push(request);
    }
  });
  while (writers.length < STREAMS) await sleep(5);
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await sleep(20);
    const began = performance.now();
    await Promise.all(writers.map((write) => write(EVENT)));
    await new Promise((resolve) => setImmediate(resolve));
    times.push(performance.now() - began);
  }
  for (const request of requests) request.destroy();
  server.close();
  await sleep(50);
  return median(times);
}

console.log(`SSE fan-out: one event to ${STREAMS} open streams, median of ${ROUNDS} rounds`);
const results: [string, number][] = [];
for (const variant of variants) results.push([variant.name, await measure(variant)]);
const floor = results.at(-1)?.[1] ?? 1;
for (const [name, ms] of results) {
  console.log(
    `  ${name.padEnd(34)} ${ms.toFixed(1).padStart(6)} ms  ${((ms * 1000) / STREAMS).toFixed(0).padStart(3)} µs a stream  ×${(ms / floor).toFixed(2)} of the floor`,
  );
}
process.exit(0);
