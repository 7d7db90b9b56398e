// `potoo schema`: the RulePack JSON Schema, for editors (yaml-language-server) and CI.
import { RULEPACK_SCHEMA } from '../../engine/pack/loader.js';
import type { Command } from './main.js';

export const schemaCommand: Command = {
  summary: 'Print the RulePack JSON Schema',
  usage: 'potoo schema',
  async run() {
    process.stdout.write(JSON.stringify(RULEPACK_SCHEMA, null, 2) + '\n');
    return 0;
  },
};
