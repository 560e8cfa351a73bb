/** etcd put-to-files latency; needs the watch daemon's etcd source (measured when available). */
export async function etcdLatency(_size: number, _changes: number): Promise<{ p50: number; p99: number; n: number } | { skipped: string }> {
  return { skipped: 'the etcd watch benchmark runs once the watch daemon lands' };
}
