#!/usr/bin/env node
// The `parley` command: the built command line (npm run build), no
// TypeScript loader at run time.
import { main } from "../dist/main.js";

process.exitCode = await main(process.argv.slice(2));
