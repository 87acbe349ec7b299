/**
 * The machine's floor for one statement, measured before the runs bench's rounds: a one-row
 * insert into an ordinary table (committed and flushed to the WAL, as an event insert is; a
 * temporary table would skip the flush) and a `select 1`, each sent back to back and then after
 * the connection sat idle a while. On a virtual machine an idle vCPU sleeps, and waking it
 * (and the PostgreSQL backend) costs several times the statement itself: a node whose events come
 * one at a time, seconds apart (a video's progress while it is polled), pays that wake-up on each.
 */
import pg from 'pg';
import { percentile } from './run-clients.ts';

/** Median times in ms of one insert and one `select 1`, back to back and after `idleMs` idle. */
export interface StatementFloor {
  readonly idleMs: number;
  readonly insert: { readonly hot: number; readonly idle: number };
  readonly select: { readonly hot: number; readonly idle: number };
}

/** Measures {@link StatementFloor} on `url`'s database (a throwaway one: it creates a table there). */
export async function measureStatementFloor(url: string, idleMs = 50, rounds = 30): Promise<StatementFloor> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('create table statement_floor (id serial primary key, v text)');
    const time = async (text: string, values: unknown[], gapMs: number) => {
      const times: number[] = [];
      for (let i = 0; i < rounds; i++) {
        if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
        const began = performance.now();
        await client.query(text, values);
        times.push(performance.now() - began);
      }
      return percentile(times, 50);
    };
    const insert = 'insert into statement_floor (v) values ($1)';
    await time(insert, ['warm'], 0);
    return {
      idleMs,
      insert: { hot: await time(insert, ['x'], 0), idle: await time(insert, ['x'], idleMs) },
      select: { hot: await time('select 1', [], 0), idle: await time('select 1', [], idleMs) },
    };
  } finally {
    await client.end();
  }
}

/** One line for the bench's report. */
export function formatStatementFloor(floor: StatementFloor): string {
  const ms = (value: number) => value.toFixed(2);
  return (
    `statement floor on this machine (median): a one-row insert ${ms(floor.insert.hot)} ms back to back, ` +
    `${ms(floor.insert.idle)} ms after ${floor.idleMs} ms idle; select 1 ${ms(floor.select.hot)} / ${ms(floor.select.idle)} ms ` +
    '(a lone event insert, such as a video progress event, pays the idle figure)'
  );
}
