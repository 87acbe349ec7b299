import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/migrate.ts';
import { describeEachDatabase } from './support/test-databases.ts';

describeEachDatabase('migrations', ({ db }) => {
  it('are idempotent: a second run applies nothing', async () => {
    expect((await migrateToLatest(db())).applied).toEqual([]);
  });

  it('keep the ledger append-only', async () => {
    await expect(sql`update ledger_entries set reason = 'x'`.execute(db())).resolves.toBeDefined();
    const userId = `usr_${Math.random().toString(36).slice(2)}`;
    await db()
      .insertInto('users')
      .values({ id: userId, email: `${userId}@example.com`, password_hash: 'x' })
      .execute();
    const now = new Date();
    await db()
      .insertInto('credit_accounts')
      .values({
        user_id: userId,
        plan: 'free',
        balance: 10,
        period_start: now,
        renews_at: now,
        updated_at: now,
      })
      .execute();
    await db()
      .insertInto('ledger_entries')
      .values({
        id: `led_${userId}`,
        user_id: userId,
        kind: 'grant',
        balance_delta: 10,
        held_delta: 0,
        balance_after: 10,
        held_after: 0,
        reason: 'test',
        run_id: null,
        node_id: null,
        hold_id: null,
        idempotency_key: `grant:${userId}`,
        actor_user_id: null,
      })
      .execute();
    await expect(
      db().updateTable('ledger_entries').set({ reason: 'edited' }).where('user_id', '=', userId).execute(),
    ).rejects.toThrow(/append-only/);
    await expect(db().deleteFrom('ledger_entries').where('user_id', '=', userId).execute()).rejects.toThrow(
      /append-only/,
    );
  });

  it('refuse an overdraft in the database itself', async () => {
    const userId = `usr_${Math.random().toString(36).slice(2)}`;
    await db()
      .insertInto('users')
      .values({ id: userId, email: `${userId}@example.com`, password_hash: 'x' })
      .execute();
    const now = new Date();
    await expect(
      db()
        .insertInto('credit_accounts')
        .values({
          user_id: userId,
          plan: 'free',
          balance: 5,
          held: 6,
          period_start: now,
          renews_at: now,
          updated_at: now,
        })
        .execute(),
    ).rejects.toThrow(/credit_accounts_no_overdraft/);
  });
});
