/**
 * The user event hub on PostgreSQL: notifications published together share a statement, and each
 * user's distinct ones arrive in the order published. PostgreSQL only (LISTEN/NOTIFY).
 */
import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DB } from '../src/db/schema.ts';
import { createUserEventHub, USER_EVENTS_CHANNEL, type UserEvent } from '../src/events/user-event-hub.ts';
import { adminQuery, withDatabase } from './support/admin-database.ts';

const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const name = `vidgenie_test_user_events_${process.pid}_${randomBytes(4).toString('hex')}`;
const url = withDatabase(adminUrl, name);
/** Statements that sent notifications, counted by the hub's own Kysely. */
let notifyStatements = 0;
let db: Kysely<DB>;
let listener: pg.Client;
const heard: { userId: string; event: UserEvent }[] = [];

beforeAll(async () => {
  await adminQuery(adminUrl, `create database ${name}`);
  db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 4 }) }),
    log: (event) => {
      if (event.level === 'query' && event.query.sql.includes('pg_notify')) notifyStatements++;
    },
  });
  listener = new pg.Client({ connectionString: url });
  await listener.connect();
  listener.on('notification', (message) => {
    if (message.channel === USER_EVENTS_CHANNEL && message.payload !== undefined)
      heard.push(JSON.parse(message.payload) as { userId: string; event: UserEvent });
  });
  await listener.query(`listen ${USER_EVENTS_CHANNEL}`);
});

afterAll(async () => {
  await listener?.end();
  await db?.destroy();
  await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
});

it('notifications published together share a statement; each user hears them in order', async () => {
  const hub = createUserEventHub({ db });
  const users = ['usr_a', 'usr_b', 'usr_c', 'usr_d'];
  const published = users.flatMap((userId) =>
    Array.from({ length: 5 }, (_, i) => ({
      userId,
      event: { type: 'run.finished', runId: `run_${userId}_${i}`, status: 'completed' } as const,
    })),
  );
  // Published at once, as a burst of runs ending would.
  await Promise.all(
    published.map(({ userId, event }, i) =>
      i % 2 === 0 ? hub.publish(userId, event) : hub.publish(userId, event, { type: 'credits.changed' }),
    ),
  );
  const expected: { userId: string; event: UserEvent }[] = published.flatMap(({ userId, event }, i) =>
    i % 2 === 0
      ? [{ userId, event }]
      : [
          { userId, event },
          { userId, event: { type: 'credits.changed' } },
        ],
  );
  for (let tries = 0; heard.length < expected.length && tries < 100; tries++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  // PostgreSQL folds identical notifications of one transaction into one (a repeated
  // credits.changed hint): each user hears every distinct one, in the order published.
  const distinct = (items: readonly { userId: string; event: UserEvent }[], userId: string) => [
    ...new Map(
      items.filter((item) => item.userId === userId).map((item) => [JSON.stringify(item), item]),
    ).values(),
  ];
  for (const userId of users) {
    const mine = heard.filter((item) => item.userId === userId);
    expect(mine).toEqual(distinct(heard, userId));
    expect(mine).toEqual(distinct(expected, userId));
  }
  // The first went alone; the 19 others published meanwhile went together.
  expect(notifyStatements).toBeLessThanOrEqual(2);
});
