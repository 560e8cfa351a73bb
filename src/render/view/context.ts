import type { Diagnostic } from '../../model/diagnostics.js';
import type { Snapshot } from '../../model/snapshot.js';
import type { Family } from '../addresses.js';
import type { ClusterFacts, NodeInfo } from '../facts/cluster.js';
import type { NodePeerings, PeeringRules } from '../facts/peerings.js';
import type { ServiceRoutes } from '../facts/services.js';
import type { CalicoVersion } from '../profiles.js';
import type { RenderStore } from '../store.js';
import { loopPreventionView, type LoopPreventionMode } from './loop-prevention.js';
import type { FamilyFiles, FamilyViewBase, NodeView, PasswordDefine, PeerView } from './view-types.js';
import type { WindowsView } from './windows-view.js';

/** What Calico takes from the environment, passed in explicitly. */
export interface ViewOptions {
  /** The Calico release whose output is reproduced (default: the newest supported). */
  readonly calicoVersion?: CalicoVersion;
  /** CALICO_ROUTER_ID: an IPv4 address, or `hash`. */
  readonly routerId?: string;
  /** NAMESPACE: where password Secrets live (default kube-system). */
  readonly secretNamespace?: string;
  /** CALICO_K8S_NODE_REF: the node name Endpoints use (default: the node name). */
  readonly k8sNodeRef?: string;
  /** CALICO_ADVERTISE_CLUSTER_IPS. */
  readonly advertiseClusterIps?: string;
  /**
   * `inline` (Calico's way): `password "…";` in bird.cfg. `separate-file`: each password once as a
   * string constant in bird_passwords.cfg / bird6_passwords.cfg, so the main files hold no secret.
   */
  readonly passwords?: 'inline' | 'separate-file';
  /** Overrides FelixConfiguration `default` spec.serviceLoopPrevention. */
  readonly loopPrevention?: LoopPreventionMode;
  /** The kernel table for loop prevention blackholes (default 250). */
  readonly loopPreventionTable?: number;
  /**
   * Which routes inside the advertised service ranges go to BGP peers. `all` (Calico's way): any,
   * so a node passes on another node's `Local` service /32 (with itself as next hop, on eBGP).
   * `own`: only this node's own static routes; routes learned over BGP stay in.
   */
  readonly serviceRoutes?: 'all' | 'own';
}

/** Everything a profile builds a node's view from: decided once per node, shared by both families. */
export interface NodeContext {
  readonly store: RenderStore;
  readonly cluster: ClusterFacts;
  readonly snapshot: Snapshot;
  readonly options: ViewOptions;
  readonly self: NodeInfo;
  readonly routerId: { readonly id: string; readonly source: NodeView['routerIdSource'] };
  /** `info`, `debug`, ... (lower case). */
  readonly logLevel: string;
  readonly peerings: NodePeerings;
  readonly services: ServiceRoutes;
  readonly diagnostics: Diagnostic[];
  readonly loopMode: LoopPreventionMode;
  readonly loopTable: number;
}

/** One Calico release's output: how peerings and services are computed and what its view holds. */
export interface Profile {
  readonly version: CalicoVersion;
  readonly peeringRules: PeeringRules;
  /** The router id `CALICO_ROUTER_ID=hash` gives a node name. */
  readonly hashRouterId: (name: string) => string;
  /** The service routes of this node. */
  readonly serviceRoutes: (ctx: Omit<NodeContext, 'services' | 'peerings'>) => ServiceRoutes;
  /** The node's view. */
  readonly nodeView: (ctx: NodeContext) => NodeView;
}

/** The file names of each family. */
const fileNames: Record<Family, FamilyFiles> = {
  ipv4: { main: 'bird.cfg', aggr: 'bird_aggr.cfg', ipam: 'bird_ipam.cfg', passwords: 'bird_passwords.cfg', loop: 'bird_loop.cfg' },
  ipv6: { main: 'bird6.cfg', aggr: 'bird6_aggr.cfg', ipam: 'bird6_ipam.cfg', passwords: 'bird6_passwords.cfg', loop: 'bird6_loop.cfg' },
};

/** The files a family's main file includes: the passwords file when used, aggr, ipam, the loop file when on. */
function includesOf(files: FamilyFiles, passwords: boolean, loop: boolean): string[] {
  return [...(passwords ? [files.passwords] : []), files.aggr, files.ipam, ...(loop ? [files.loop] : [])];
}

/**
 * What a family's view holds in every profile: its files and what the main file includes, the
 * address, router id, loop prevention, password constants and sessions. Called once the sessions
 * are made (they fill `passwordDefines`).
 */
export function familyViewBase(ctx: NodeContext, family: Family, address: string | null, passwordDefines: readonly PasswordDefine[], sessions: readonly PeerView[]): FamilyViewBase {
  const files = fileNames[family];
  const loopPrevention = loopPreventionView(ctx.loopMode, ctx.loopTable, ctx.services.rejects[family]);
  return { family, files, includes: includesOf(files, passwordDefines.length > 0, loopPrevention.enabled), address, routerId: ctx.routerId.id, loopPrevention, passwordDefines, sessions };
}

/** A value made when first asked for, then kept. */
class Lazy<T> {
  private value: T | undefined = undefined;
  private make: (() => T) | null;

  constructor(make: () => T) {
    this.make = make;
  }

  get(): T {
    if (this.make) {
      this.value = this.make();
      this.make = null;
    }
    return this.value as T;
  }
}

/** Where a node view keeps the maker of its Windows part. */
const windowsPart = Symbol('windows part');

/** The one getter of every node view's `windows`. */
function windowsOf(this: { readonly [windowsPart]: Lazy<WindowsView> }): WindowsView {
  return this[windowsPart].get();
}

/**
 * A node view with its Windows part (`windows`) made when first read (Windows targets, `view`):
 * a Linux node of a large mesh would otherwise pay for thousands of PowerShell literals on every
 * render. It reads as a plain enumerable property (`view` prints it), through one getter shared
 * by every view. A getter written in the view's object literal, a closure over the node's whole
 * context, was measured to keep each render's cluster facts alive through V8's next
 * young-generation collection after the following change, which then promoted them to the old
 * generation (about 130 KB per change at a 5,000-node mesh, the latency's 99th percentile); the
 * shared getter does not.
 */
export function withWindows<V extends object>(view: V, make: () => WindowsView): V & { readonly windows: WindowsView } {
  Object.defineProperty(view, windowsPart, { value: new Lazy(make) });
  Object.defineProperty(view, 'windows', { get: windowsOf, enumerable: true });
  return view as V & { readonly windows: WindowsView };
}

/** The optional files of both families: each exists exactly when its main file includes it. */
export function optionalFiles(families: readonly FamilyViewBase[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const f of families) for (const name of [f.files.passwords, f.files.loop]) out[name] = f.includes.includes(name);
  return out;
}

/**
 * The password statement of a peer: Calico's `password "…";`, or with separate password files a
 * `password <constant>;` whose constant (one per distinct value) is added to `defines`.
 */
export function passwordStatements(separate: boolean, defines: PasswordDefine[]): (value: string) => string {
  return (value) => {
    if (!separate) return `password "${value}";`;
    let def = defines.find((d) => d.value === value);
    if (!def) {
      def = { symbol: `bird_confd_password_${defines.length + 1}`, value };
      defines.push(def);
    }
    return `password ${def.symbol};`;
  };
}

/** The debug statement for device, direct and BGP template, from the log level (Calico's mapping). */
export function debugLine(logLevel: string): string | null {
  return logLevel === 'debug' ? 'debug all;' : logLevel === 'info' ? 'debug { states };' : null;
}
