// The `parley` command line.
import { nodeStartHelp, parseNodeConfig, UsageError } from "./node-config.js";
import { runNode } from "./node-start.js";

const help = `Usage: parley <command>

Commands:
  node start    run a node on the embedded SQLite store (see parley node start --help)
`;

/** Runs a command; resolves to the process exit code. */
export async function main(args: readonly string[]): Promise<number> {
  const [group, command, ...rest] = args;
  try {
    if (group === "node" && command === "start") {
      if (rest.includes("--help")) {
        process.stdout.write(nodeStartHelp);
        return 0;
      }
      await runNode(parseNodeConfig(rest, process.env));
      return 0;
    }
    process.stdout.write(help);
    return group === undefined || group === "--help" ? 0 : 2;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`${(error as Error).message}\n\n${nodeStartHelp}`);
      return 2;
    }
    throw error;
  }
}
