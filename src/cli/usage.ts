// Help texts that `bird-confd --help` prints: kept apart from the commands so that printing them
// loads no command module.
import { renderFlagsHelp } from './common.js';

/** Help text of `bird-confd render`. */
export const renderUsage = `Usage: bird-confd render -f PATH [-f PATH ...] [--node NAME] [--out DIR] [options]
       bird-confd render -f PATH [-f PATH ...] --all-nodes [--out DIR] [--jobs N] [options]

Renders one node's BIRD configuration from manifests, with no cluster; or every node's.

${renderFlagsHelp}
  -o, --out DIR         write the files into DIR (created if needed) as "watch" does: each file
                        a symlink into the current generation, all swapped at once; without it,
                        every file is printed under a "==> name <==" header line, with
                        passwords shown as "***"
      --show-secrets    print passwords in the preview as they are
      --all-nodes       every Calico Node's files: with --out, into DIR/NODE/ (DIR must be new,
                        empty or written by an earlier --all-nodes run, which it replaces whole
                        once every node rendered; files holding a password get mode 0600);
                        without it, printed under "==> NODE/FILE <==" lines, in node name order.
                        Each problem is printed once, however many nodes it touches
      --jobs N          threads rendering --all-nodes, each loading the manifests itself and
                        holding its own copy of the cluster (default: the number of CPUs, at
                        most 4; 1 renders in the main thread)
  -h, --help            this help

Environment: NODENAME, CALICO_ROUTER_ID, NAMESPACE, CALICO_K8S_NODE_REF (the node name used by
Endpoints), CALICO_ADVERTISE_CLUSTER_IPS (comma-separated CIDRs, overrides serviceClusterIPs).

Exit status: 0 rendered; 1 bad input (one line per problem: file, object, field); 2 bad usage.`;
