// Calico confd's own template test cases, from ../shared beside the checkout (see test/helpers/compat.ts):
// each suite renders with its file's `args` (its Calico version profile).
import { compatSuite } from './helpers/compat.js';

compatSuite('calico-confd-v3.17', 21);
compatSuite('calico-confd-v3.32', 64);
