#!/usr/bin/env node
import { defineCommand, runMain } from 'citty';
import { ConfigError, loadConfig } from '../config/server-config.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { openDatabase } from '../db/open-database.ts';
import { startServer } from '../server/start-server.ts';
import { createServices, databaseOptions } from '../services/create-services.ts';
import { formatRotateKeysReport, rotateKeys } from '../vault/rotate-keys.ts';

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
    const stop = async () => {
      await server.close();
      await services.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
});

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
  meta: { name: 'vidgenie', description: 'VidGenie server: HTTP API, migrations and key rotation' },
  subCommands: {
    serve,
    migrate,
    keys: defineCommand({ meta: { name: 'keys', description: 'Vault keys' }, subCommands: { rotate } }),
  },
});

await runMain(main);
