// Process entry for the controller alone (`node dist/runtime/controller/main.js ...` or
// `tsx runtime/controller/main.ts ...`): what the container image and the integration
// tests start, without loading the rest of the CLI.
import { UsageError } from '../cli/args.js';
import { controllerCommand } from '../cli/controller.js';

try {
  process.exitCode = await controllerCommand.run(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`potoo controller: ${err.message}\nUsage: ${controllerCommand.usage}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`potoo controller: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  }
}
