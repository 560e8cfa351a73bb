// Preloaded into a bird-confd process by tests (`node --import ./test/helpers/v8-flags-spy.mjs ...`):
// every V8 flag the process sets at run time is written to stderr as `v8-flag: FLAG`, then set.
import { writeSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import v8 from 'node:v8';

const set = v8.setFlagsFromString;
v8.setFlagsFromString = (flags) => {
  writeSync(2, `v8-flag: ${flags}\n`);
  set(flags);
};
syncBuiltinESMExports();
