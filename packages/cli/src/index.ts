// parley: the command line, as a library for tests.
export { main } from "./main.js";
export { parseNodeConfig, UsageError, type NodeConfig } from "./node-config.js";
