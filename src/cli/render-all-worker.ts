// A worker thread of `render --all-nodes` (render-all-nodes.ts starts it): one share of the nodes.
import { parentPort, workerData } from 'node:worker_threads';
import { renderShare, type ShareTask } from './render-all-share.js';

const { task } = workerData as { task: ShareTask };
await renderShare(task, (m) => parentPort!.postMessage(m));
