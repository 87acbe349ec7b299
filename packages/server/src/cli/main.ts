#!/usr/bin/env node
import { defineCommand, runMain } from 'citty';
import { ConfigError, loadConfig } from '../config/server-config.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { openDatabase } from '../db/open-database.ts';
import { findUiDir } from '../http/serve-ui.ts';
import { startServer } from '../server/start-server.ts';
import { createServices, databaseOptions } from '../services/create-services.ts';
import { formatRotateKeysReport, rotateKeys } from '../vault/rotate-keys.ts';
import { showCliHelp } from './cli-help.ts';

function config() {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

const serve = defineCommand({
  meta: {
    name: 'serve',
    description: 'Start the HTTP API (PORT, default 3000, on 127.0.0.1 unless HOST says otherwise)',
  },
  args: {
    port: { type: 'string', description: 'Port to listen on (overrides PORT)' },
    host: { type: 'string', description: 'Interface to bind (overrides HOST; 0.0.0.0 for every interface)' },
  },
  async run({ args }) {
    const settings = config();
    const services = await createServices(settings);
    const server = await startServer(services, {
      ...(args.port === undefined ? {} : { port: Number(args.port) }),
      ...(args.host === undefined ? {} : { host: args.host }),
    });
    services.log.info({ url: server.url, database: services.database.kind }, 'VidGenie is listening');
    console.log(`VidGenie API on ${server.url} (database: ${services.database.kind})`);
    if (findUiDir(settings.VIDGENIE_UI_DIR) !== undefined) {
      console.log(`Open ${server.url} in your browser: sign up, then press Run on /create.`);
    }
    stopOnSignals(async () => {
      // New requests are refused at once; runs get the grace period, then open streams are cut.
      const closing = server.close();
      await services.close({ graceMs: settings.VIDGENIE_SHUTDOWN_GRACE_SECONDS * 1000 });
      server.closeConnections();
      await closing;
    }, services.log);
  },
});

const worker = defineCommand({
  meta: {
    name: 'worker',
    description:
      'Execute workflow runs taken from the queue (needs DATABASE_URL); start as many as the load needs, on any machines',
  },
  args: {
    port: {
      type: 'string',
      description: 'Also serve /healthz, /readyz and /metrics on this port (default: none)',
    },
    host: { type: 'string', description: 'Interface for --port (default: HOST, or 127.0.0.1)' },
  },
  async run({ args }) {
    const settings = config();
    if (settings.DATABASE_URL === undefined) {
      console.error(
        'vidgenie worker needs DATABASE_URL (PostgreSQL): workers share runs through it. Without it, `vidgenie serve` executes runs itself.',
      );
      process.exit(2);
    }
    // Without --port it serves no event stream: other machines' run events need not wake it.
    const services = await createServices(settings, { work: true, relayEvents: args.port !== undefined });
    const server =
      args.port === undefined
        ? undefined
        : await startServer(services, {
            port: Number(args.port),
            ...(args.host === undefined ? {} : { host: args.host }),
          });
    services.log.info({ workerId: services.runs.workerId, url: server?.url }, 'worker started');
    console.log(`VidGenie worker ${services.runs.workerId} is taking runs`);
    stopOnSignals(async () => {
      const closing = server?.close();
      await services.close({ graceMs: settings.VIDGENIE_SHUTDOWN_GRACE_SECONDS * 1000 });
      server?.closeConnections();
      await closing;
    }, services.log);
  },
});

/** SIGTERM and SIGINT stop the process gracefully once; a second signal exits at once. */
function stopOnSignals(stop: () => Promise<void>, log: { info(obj: object, msg: string): void }) {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

const migrate = defineCommand({
  meta: { name: 'migrate', description: 'Bring the database schema up to date, then exit' },
  async run() {
    const settings = config();
    const database = await openDatabase(databaseOptions(settings));
    try {
      const { applied } = await migrateToLatest(database.db);
      console.log(applied.length === 0 ? 'The schema is up to date.' : `Applied: ${applied.join(', ')}`);
    } finally {
      await database.close();
    }
  },
});

const rotate = defineCommand({
  meta: {
    name: 'rotate',
    description:
      'Re-encrypt every stored provider key with the newest vault key (embedded mode adds a new key version first). Safe to interrupt and run again.',
  },
  args: { 'batch-size': { type: 'string', description: 'Rows per transaction (default 100)' } },
  async run({ args }) {
    const settings = config();
    const database = await openDatabase(databaseOptions(settings));
    try {
      await migrateToLatest(database.db);
      const report = await rotateKeys({
        config: settings,
        db: database.db,
        batchSize: Number(args['batch-size'] ?? 100),
      });
      console.log(formatRotateKeysReport(report));
    } finally {
      await database.close();
    }
  },
});

const main = defineCommand({
  meta: { name: 'vidgenie', description: 'VidGenie server: HTTP API, workers, migrations and key rotation' },
  subCommands: {
    serve,
    worker,
    migrate,
    keys: defineCommand({ meta: { name: 'keys', description: 'Vault keys' }, subCommands: { rotate } }),
  },
});

// `--help` adds the environment variables that matter to each command, and examples.
await runMain(main, { showUsage: showCliHelp });
