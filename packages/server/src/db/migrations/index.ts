import type { Migration } from 'kysely';
import * as accountsVaultLedger from './0001-accounts-vault-ledger.ts';
import * as runCheckpoints from './0002-run-checkpoints.ts';
import * as runs from './0003-runs.ts';
import * as templates from './0004-templates.ts';
import * as runReruns from './0005-run-reruns.ts';
import * as contents from './0006-contents.ts';
import * as analyticsEvents from './0007-analytics-events.ts';
import * as providerKeyBackoffs from './0008-provider-key-backoffs.ts';
import * as runLeases from './0009-run-leases.ts';
import * as captureCountsInline from './0010-capture-counts-inline.ts';
import * as mediaOrphans from './0011-media-orphans.ts';
import * as earlierRunOrphans from './0012-earlier-run-orphans.ts';
import * as acquireRunLease from './0013-acquire-run-lease.ts';

/**
 * Every migration, in order. Names are permanent: a new schema change is a new entry, never an edit.
 * Listed statically (not read from a folder) so bundlers and `tsc` see every migration.
 * @internal
 */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001-accounts-vault-ledger': accountsVaultLedger,
  '0002-run-checkpoints': runCheckpoints,
  '0003-runs': runs,
  '0004-templates': templates,
  '0005-run-reruns': runReruns,
  '0006-contents': contents,
  '0007-analytics-events': analyticsEvents,
  '0008-provider-key-backoffs': providerKeyBackoffs,
  '0009-run-leases': runLeases,
  '0010-capture-counts-inline': captureCountsInline,
  '0011-media-orphans': mediaOrphans,
  '0012-earlier-run-orphans': earlierRunOrphans,
  '0013-acquire-run-lease': acquireRunLease,
};
