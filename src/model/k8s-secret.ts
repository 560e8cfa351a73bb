import { z } from 'zod';
import { ObjectMeta } from './common.js';

/**
 * Kubernetes Secret. `data` is base64 and `stringData` plain text; like the API server,
 * stringData wins over data for the same key. Values are decoded once here.
 */
export const Secret = z
  .object({
    kind: z.literal('Secret'),
    metadata: ObjectMeta,
    data: z.record(z.string(), z.string()).nullish(),
    stringData: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).nullish(),
  })
  .transform((s, ctx) => {
    const values: Record<string, string> = {};
    for (const [key, b64] of Object.entries(s.data ?? {})) {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64.replace(/\s/g, ''))) {
        // The message names the key only: a Secret's value never goes into a diagnostic.
        ctx.addIssue({ code: 'custom', path: ['data', key], message: 'not valid base64' });
        continue;
      }
      values[key] = Buffer.from(b64, 'base64').toString('utf8');
    }
    Object.assign(values, s.stringData ?? {});
    return { kind: s.kind, metadata: s.metadata, values };
  });
export type Secret = z.infer<typeof Secret>;
