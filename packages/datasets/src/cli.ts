#!/usr/bin/env node
// Entry point of the `fairclip-data` binary.
import { runCli } from './cli-main.ts';

process.exitCode = await runCli(process.argv.slice(2));
