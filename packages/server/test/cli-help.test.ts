import { defineCommand } from 'citty';
import { describe, expect, it } from 'vitest';
import { CLI_HELP, renderCliHelp } from '../src/cli/cli-help.ts';
import { ServerConfigSchema } from '../src/config/server-config.ts';

const rotate = defineCommand({
  meta: { name: 'rotate', description: 'Re-encrypt every stored provider key' },
  args: { 'batch-size': { type: 'string', description: 'Rows per transaction' } },
});
const keys = defineCommand({ meta: { name: 'keys', description: 'Vault keys' }, subCommands: { rotate } });
const serve = defineCommand({
  meta: { name: 'serve', description: 'Start the HTTP API' },
  args: { port: { type: 'string', description: 'Port to listen on' } },
});
const root = defineCommand({
  meta: { name: 'vidgenie', description: 'VidGenie server' },
  subCommands: { serve, keys },
});

describe('renderCliHelp', () => {
  it('adds the settings and examples of a command to its options', async () => {
    const help = await renderCliHelp(serve, root);
    expect(help).toContain('vidgenie serve');
    expect(help).toContain('--port');
    expect(help).toMatch(/ENVIRONMENT/);
    expect(help).toMatch(/^ {2}PORT +port to listen on \(default 3000\)$/m);
    expect(help).toMatch(/^ {2}DATABASE_URL +PostgreSQL/m);
    expect(help).toMatch(/EXAMPLES[\s\S]*vidgenie serve --port 8080/);
  });

  it('names a nested command by its full path', async () => {
    const help = await renderCliHelp(rotate, keys);
    expect(help).toContain('vidgenie keys rotate [OPTIONS]');
    expect(help).toContain('--batch-size');
    expect(help).toMatch(/^ {2}VIDGENIE_ENCRYPTION_KEYS +/m);
  });

  it('lists only real settings, for every command', async () => {
    const settings = new Set(Object.keys(ServerConfigSchema.shape));
    for (const command of [
      'vidgenie',
      'vidgenie serve',
      'vidgenie worker',
      'vidgenie migrate',
      'vidgenie keys rotate',
    ]) {
      const help = CLI_HELP[command];
      expect(help?.environment.length, command).toBeGreaterThan(0);
      for (const variable of help?.environment ?? [])
        expect(settings, `${command}: ${variable.name}`).toContain(variable.name);
    }
  });

  it('leaves a command without extra help as citty renders it', async () => {
    const other = defineCommand({ meta: { name: 'other', description: 'Something else' } });
    const help = await renderCliHelp(other, root);
    expect(help).toContain('vidgenie other');
    expect(help).not.toContain('ENVIRONMENT');
  });
});
