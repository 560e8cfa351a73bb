import { ipPoolWarnings } from './ip-pool.js';
import type { Resource } from './resources.js';
import { workloadEndpointStatusWarnings } from './workload-endpoint-status.js';

/** A warning about one field of a resource that loaded. */
export interface FieldWarning {
  readonly field: string;
  readonly message: string;
}

/**
 * Problems that do not keep a resource out: Calico's API would refuse the value, but confd renders
 * it in a defined way, and leaving the resource out would lose more (routes, sessions).
 */
export function resourceWarnings(resource: Resource): FieldWarning[] {
  switch (resource.kind) {
    case 'IPPool':
      return ipPoolWarnings(resource);
    case 'WorkloadEndpointStatus':
      return workloadEndpointStatusWarnings(resource);
    default:
      return [];
  }
}
