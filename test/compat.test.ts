// Calico confd's own template test cases, from ../shared beside the checkout (see test/helpers/compat.ts).
import { compatSuite } from './helpers/compat.js';

compatSuite('calico-confd-v3.17', 21);
